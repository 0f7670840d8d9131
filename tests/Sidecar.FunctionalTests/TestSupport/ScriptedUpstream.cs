using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>
/// A WireMock.Net upstream on 127.0.0.1 port 0 that answers from a script: the n-th request gets the n-th response
/// and the last one repeats. Responses are WireMock response builders, so status, headers (<c>Retry-After</c>),
/// bodies and delays are written the way WireMock's docs show. Every request is recorded in order of arrival.
/// <see cref="Cycle"/> plays the script round and round instead.
/// <para>A script of several responses is a WireMock scenario, which moves on once per request without a lock: it
/// is for requests that arrive one after another. A single response answers any number of concurrent requests.
/// For what WireMock cannot do (hold a request until the proxy gives up on it, stream with pauses, HTTP/2 only,
/// WebSockets) use <see cref="TestUpstream"/>; for broken connections use <see cref="RawUpstream"/>.</para>
/// </summary>
public sealed class ScriptedUpstream : IDisposable
{
    private const string Scenario = "script";

    private static readonly HttpClient WarmUpClient = new(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero });

    private ScriptedUpstream(WireMockServer server) => Server = server;

    /// <summary>The WireMock server itself, for anything a script cannot express.</summary>
    public WireMockServer Server { get; }

    public string Url => Server.Url!;

    public Uri Address => new(Url);

    /// <summary>Requests received so far (recorded before they are answered).</summary>
    public int Count => Server.LogEntries.Count();

    /// <summary>Starts an upstream answering the n-th request with <paramref name="script"/>[n - 1], then the last one forever.</summary>
    public static ScriptedUpstream Start(params IResponseBuilder[] script)
    {
        var upstream = StartServer();
        upstream.Install(script, cycle: false);
        return upstream;
    }

    /// <summary>Starts an upstream answering with <paramref name="script"/> over and over: after the last response, the first again.</summary>
    public static ScriptedUpstream Cycle(params IResponseBuilder[] script)
    {
        var upstream = StartServer();
        upstream.Install(script, cycle: true);
        return upstream;
    }

    /// <summary>Answers every request with <paramref name="status"/> and a short text body.</summary>
    public static ScriptedUpstream Status(int status, string body = "ok") =>
        Start(Response.Create().WithStatusCode(status).WithBody(body));

    /// <summary>From now on answers with <paramref name="script"/>, counting from its first response again (the upstream recovers, say).</summary>
    public void Replace(params IResponseBuilder[] script)
    {
        Server.ResetMappings();
        Server.ResetScenarios();
        Install(script, cycle: false);
    }

    /// <summary>The requests received so far, in order of arrival.</summary>
    public RecordedRequest[] Snapshot()
    {
        var entries = Server.LogEntries.ToArray();
        var requests = new RecordedRequest[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            var message = entries[i].RequestMessage;
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, values) in message.Headers ?? new Dictionary<string, WireMock.Types.WireMockList<string>>())
            {
                headers[name] = string.Join(',', values);
            }

            requests[i] = new RecordedRequest(
                i + 1,
                message.Method,
                message.AbsolutePath + message.RawQuery,
                headers,
                message.BodyAsBytes ?? [],
                new DateTimeOffset(DateTime.SpecifyKind(message.DateTime, DateTimeKind.Utc)));
        }

        return requests;
    }

    public void Dispose()
    {
        Server.Stop();
        Server.Dispose();
    }

    private static string State(int step) => "step " + step;

    /// <summary>
    /// Starts a server and sends it one request before any mapping exists. A process's first WireMock request takes
    /// seconds on a busy machine (loading and compiling its request pipeline), and a test that times hedges or waits
    /// must not pay for that; the warm-up request is then dropped from the log.
    /// </summary>
    private static ScriptedUpstream StartServer()
    {
        var server = WireMockServer.Start(new WireMockServerSettings { Urls = ["http://127.0.0.1:0"] });
        using (var warmUp = new HttpRequestMessage(HttpMethod.Get, server.Url + "/warm-up"))
        {
            using var _ = WarmUpClient.Send(warmUp);
        }

        server.ResetLogEntries();
        return new ScriptedUpstream(server);
    }

    private void Install(IResponseBuilder[] script, bool cycle)
    {
        ArgumentOutOfRangeException.ThrowIfZero(script.Length);
        var last = script.Length - 1;
        for (var step = 0; step <= last; step++)
        {
            var mapping = Server.Given(Request.Create());
            if (last > 0)
            {
                mapping = mapping.InScenario(Scenario);
                if (step > 0)
                {
                    mapping = mapping.WhenStateIs(State(step));
                }

                // WireMock restarts a scenario whose last step sets no state: to repeat the last response instead,
                // that step names its own state again.
                if (step < last || !cycle)
                {
                    mapping = mapping.WillSetStateTo(State(Math.Min(step + 1, last)));
                }
            }

            mapping.RespondWith(script[step]);
        }
    }
}
