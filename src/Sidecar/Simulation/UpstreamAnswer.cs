namespace Sidecar.Simulation;

/// <summary>What the simulated upstream did with one attempt.</summary>
internal enum UpstreamAnswerKind
{
    /// <summary>It answered with <see cref="UpstreamAnswer.Status"/>.</summary>
    Response,

    /// <summary>It reset the connection before answering.</summary>
    Reset,

    /// <summary>It refused the connection (an outage): the request never reached it.</summary>
    Refused,

    /// <summary>The attempt's timer fired (or the caller left) before an answer came.</summary>
    Abandoned,
}

/// <summary>One attempt's answer: its kind, and for a response its status and <c>Retry-After</c> value (null for none).</summary>
internal readonly record struct UpstreamAnswer(UpstreamAnswerKind Kind, int Status = 0, string? RetryAfter = null);
