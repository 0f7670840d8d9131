using System.Globalization;
using System.Text;
using Sidecar.Grpc;
using Sidecar.Http;
using Sidecar.Telemetry;

namespace Sidecar.Retries;

/// <summary>
/// The <c>x-sidecar-explain</c> response header: a caller that sends <c>x-sidecar-explain: 1</c> on a route whose
/// policy has <c>allow_explain: true</c> gets each attempt and the decision in one line, as the access log has them:
/// <c>attempt=1 dest=10.0.0.1:8080 status=503 dur=12ms wait=40ms reason=503; attempt=2 dest=10.0.0.2:8080 status=200 dur=9ms; decision=success_after_retry</c>.
/// A request stopped by a refused retry adds <c>stop=</c> and the skip reason (<c>budget</c>, <c>deadline</c>, ...);
/// a gRPC attempt answered trailers-only adds its status (<c>grpc=unavailable</c>).
/// </summary>
internal static class ExplainHeader
{
    /// <summary>The caller asks for the header: <c>x-sidecar-explain: 1</c> (or <c>true</c>).</summary>
    public static bool IsRequested(IHeaderDictionary headers)
    {
        var values = headers[SidecarHeaders.Explain];
        return values.Count == 1 && values[0] is "1" or "true";
    }

    /// <summary>
    /// The header's value when the response starts: the attempts that ended, then the attempt in flight when its
    /// response is the one being committed (its duration so far: up to its response's headers).
    /// </summary>
    /// <param name="state">The request.</param>
    /// <param name="trail">Its trail.</param>
    /// <param name="currentDestination">The address the attempt in flight went to.</param>
    /// <param name="now"><see cref="TimeProvider.GetTimestamp"/> now.</param>
    /// <param name="timeProvider">The clock of the timestamps.</param>
    public static string Format(RetryState state, AttemptTrail trail, string? currentDestination, long now, TimeProvider timeProvider)
    {
        var text = new StringBuilder(128);
        var ended = trail.Attempts;
        foreach (var attempt in ended)
        {
            Append(text, attempt);
            text.Append("; ");
        }

        var decision = trail.Decision;
        if (decision is null && state.Verdict == AttemptVerdict.Commit)
        {
            decision = state.Outcome;
            if (ended.Length < state.Attempt)
            {
                var result = AttemptResults.OfStatus(state.ResponseStatus);
                Append(text, new AttemptRecord(state.Attempt, currentDestination, state.ResponseStatus, result, timeProvider.GetElapsedTime(trail.CurrentStart, now), GrpcStatus: state.GrpcStatus));
                text.Append("; ");
            }
        }

        // Unknown only for an answer given outside the loop (an unreadable body): the status says it, no decision is made up.
        text.Append("decision=").Append(decision is { } known ? known.Label() : "none");
        if (state.SkipReason is { } skipped)
        {
            text.Append(" stop=").Append(skipped.Label());
        }

        return text.ToString();
    }

    private static void Append(StringBuilder text, in AttemptRecord attempt)
    {
        var invariant = CultureInfo.InvariantCulture;
        text.Append(invariant, $"attempt={attempt.Number}");
        if (attempt.Destination is { } destination)
        {
            text.Append(" dest=").Append(DestinationLabel.Of(destination));
        }

        if (attempt.Status > 0)
        {
            text.Append(invariant, $" status={attempt.Status}");
            if (attempt.GrpcStatus >= 0)
            {
                text.Append(" grpc=").Append(GrpcStatus.Label(attempt.GrpcStatus));
            }
        }
        else
        {
            text.Append(" error=").Append(attempt.Result.Label());
        }

        text.Append(invariant, $" dur={(long)attempt.Duration.TotalMilliseconds}ms");
        if (attempt.RetryReason is { } reason)
        {
            text.Append(invariant, $" wait={(long)attempt.Wait.TotalMilliseconds}ms reason=").Append(reason);
        }
    }
}
