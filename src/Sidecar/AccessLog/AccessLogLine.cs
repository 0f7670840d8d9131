using System.Text.Json;
using Sidecar.Grpc;
using Sidecar.Retries;
using Sidecar.Telemetry;

namespace Sidecar.AccessLog;

/// <summary>
/// One access log line, as JSON (README, "Access log", lists the fields; their names are stable). Written with
/// <see cref="Utf8JsonWriter"/>: no reflection, fine under Native AOT.
/// </summary>
internal static class AccessLogLine
{
    public static void Write(Utf8JsonWriter json, in AccessLogEntry entry)
    {
        json.WriteStartObject();
        json.WriteString("time", entry.Time.UtcDateTime);
        json.WriteString("route", entry.Route);
        json.WriteString("cluster", entry.Cluster);
        json.WriteString("method", entry.Method);
        json.WriteString("path", entry.Path);
        json.WriteNumber("status", entry.Status);
        json.WriteNumber("duration_ms", Milliseconds(entry.Duration));
        if (entry.TraceId.Length > 0)
        {
            json.WriteString("trace_id", entry.TraceId);
        }
        else
        {
            json.WriteNull("trace_id");
        }

        var decision = entry.Outcome.Label();
        json.WriteString("decision", decision);
        var stop = entry.StopReason is { } skipped ? skipped.Label() : null;
        if (stop is not null)
        {
            json.WriteString("stop_reason", stop);
        }
        else
        {
            json.WriteNull("stop_reason");
        }

        json.WriteNumber("attempt_count", entry.AttemptCount);
        json.WriteStartArray("attempts");
        var attempts = entry.Attempts;
        if (attempts is not null)
        {
            for (var i = 0; i < attempts.Count; i++)
            {
                WriteAttempt(json, attempts[i], i == attempts.Count - 1 ? stop ?? decision : null);
            }
        }
        else if (entry.Single is { } single)
        {
            WriteAttempt(json, single, stop ?? decision);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteAttempt(Utf8JsonWriter json, in AttemptRecord attempt, string? stop)
    {
        json.WriteStartObject();
        json.WriteNumber("attempt", attempt.Number);
        if (attempt.Destination is { } destination)
        {
            json.WriteString("destination", DestinationLabel.Of(destination));
        }
        else
        {
            json.WriteNull("destination");
        }

        if (attempt.Status > 0)
        {
            json.WriteNumber("status", attempt.Status);
            if (attempt.GrpcStatus >= 0)
            {
                json.WriteString("grpc_status", GrpcStatus.Label(attempt.GrpcStatus));
            }
        }
        else
        {
            json.WriteString("error", attempt.Result.Label());
        }

        json.WriteNumber("duration_ms", Milliseconds(attempt.Duration));
        if (attempt.RetryReason is { } reason)
        {
            json.WriteNumber("wait_ms", Milliseconds(attempt.Wait));
            json.WriteString("retry_reason", reason);
        }

        if (stop is not null)
        {
            json.WriteString("stop", stop);
        }

        json.WriteEndObject();
    }

    private static double Milliseconds(TimeSpan duration) => Math.Round(duration.TotalMilliseconds, 3);
}

/// <summary>What one access log line says about a request.</summary>
/// <param name="Time">When the request arrived (UTC).</param>
/// <param name="Route">The route's name.</param>
/// <param name="Cluster">The route's cluster.</param>
/// <param name="Method">The caller's method.</param>
/// <param name="Path">The request's path, without its query.</param>
/// <param name="Status">The status the caller got; 0 when it left before any response went out.</param>
/// <param name="Duration">From arrival to the end of the response.</param>
/// <param name="TraceId">The W3C trace id (hex), empty when the request has none.</param>
/// <param name="Outcome">The <c>sidecar_requests_total</c> outcome.</param>
/// <param name="StopReason">The refused retry that ended it, if one did.</param>
/// <param name="AttemptCount">Attempts made.</param>
/// <param name="Attempts">Each attempt, when the request kept its trail.</param>
/// <param name="Single">The one attempt of a request without a policy.</param>
internal readonly record struct AccessLogEntry(
    DateTimeOffset Time,
    string Route,
    string Cluster,
    string Method,
    string Path,
    int Status,
    TimeSpan Duration,
    string TraceId,
    RequestOutcome Outcome,
    RetrySkipReason? StopReason,
    int AttemptCount,
    IReadOnlyList<AttemptRecord>? Attempts,
    AttemptRecord? Single);
