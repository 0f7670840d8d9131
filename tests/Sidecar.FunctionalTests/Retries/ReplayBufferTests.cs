using System.Net.Sockets;
using System.Text;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Retries;

/// <summary>
/// The replay-buffer pool (<c>limits.max_buffered_bytes</c>) holds bytes that arrived, not bytes a caller promised:
/// slow uploads declaring large bodies cannot empty it for everyone else, and <c>sidecar_buffered_bytes</c> shows what
/// is really held.
/// </summary>
public sealed class ReplayBufferTests
{
    private const int Declared = 64 * 1024;
    private const int SentEarly = 100;
    private const int SlowUploads = 20;

    [Fact]
    public async Task Retry_SlowUploadsDeclaringLargeBodies_DoNotStarveOtherCallersRetries()
    {
        var slowBodies = new System.Collections.Concurrent.ConcurrentQueue<int>();
        await using var sink = RawUpstream.Start(async (_, connection) =>
        {
            slowBodies.Enqueue((await connection.ReadRequestAsync()).Body.Length);
            await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        });
        await using var flaky = RawUpstream.FirstAttemptFails();
        // 16 declared bodies fill the 1 MiB pool; 20 would overfill it.
        await using var sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              sink: { destinations: [{{sink.Url}}] }
              flaky: { destinations: [{{flaky.Url}}] }
            policies:
              p:
                max_attempts: 2
                backoff: { algorithm: constant, base: 5ms, max: 5ms, jitter: none }
                retry_on: { status: [503] }
                timeout: 1m
                buffer_limit: 64KiB
                budget: off
            routes:
              - name: upload
                match: { path: "/upload/{**rest}" }
                cluster: sink
                policy: p
              - name: flaky
                match: { path: "/flaky/{**rest}" }
                cluster: flaky
                policy: p
            limits:
              max_buffered_bytes: 1MiB
            """);

        var uploads = new List<TcpClient>();
        try
        {
            for (var i = 0; i < SlowUploads; i++)
            {
                var client = new TcpClient();
                uploads.Add(client);
                await client.ConnectAsync(sidecar.ProxyAddress.Host, sidecar.ProxyAddress.Port);
                var head = $"PUT /upload/{i} HTTP/1.1\r\nHost: sidecar\r\nContent-Length: {Declared}\r\nConnection: close\r\n\r\n";
                await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(head));
                await client.GetStream().WriteAsync(new byte[SentEarly]);
            }

            // Every upload is past the start of its request (the pool is asked before the body is read).
            await Eventually.ReturnsAsync(
                async () => PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_inflight_requests"),
                inflight => inflight == SlowUploads,
                TimeSpan.FromSeconds(10),
                "every slow upload in flight");

            for (var i = 0; i < 5; i++)
            {
                var response = await RawHttp.ExchangeAsync(
                    sidecar.ProxyAddress,
                    $"POST /flaky/x HTTP/1.1\r\nHost: sidecar\r\nIdempotency-Key: k{i}\r\nContent-Length: 1024\r\nConnection: close\r\n\r\n",
                    new byte[1024]);
                Assert.Equal(200, response.Status);
                Assert.Equal("2", response.Header("x-sidecar-attempts"));
            }

            // The gauge shows the bytes that arrived, not the 64 KiB each upload promised.
            await Eventually.ReturnsAsync(
                async () => PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_buffered_bytes"),
                held => held == SlowUploads * SentEarly,
                TimeSpan.FromSeconds(10),
                "the buffered-bytes gauge equal to the bytes received");

            foreach (var client in uploads)
            {
                await client.GetStream().WriteAsync(new byte[Declared - SentEarly]);
            }

            foreach (var client in uploads)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                var response = await RawHttp.ReadResponseAsync(client.GetStream(), timeout.Token);
                Assert.Equal(200, response.Status);
            }
        }
        finally
        {
            foreach (var client in uploads)
            {
                client.Dispose();
            }
        }

        Assert.Equal(Enumerable.Repeat(Declared, SlowUploads), slowBodies);
        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Equal(0, PrometheusText.Value(metrics, "sidecar_buffered_bytes"));
        Assert.Null(PrometheusText.Value(metrics, "sidecar_retries_skipped_total", "route=flaky", "reason=body_not_replayable"));
        sidecar.Logs.AssertNoBugs();
    }
}
