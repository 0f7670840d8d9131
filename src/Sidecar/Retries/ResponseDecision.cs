namespace Sidecar.Retries;

/// <summary>What becomes of an attempt's response (<see cref="RetryDecider.DecideResponseAsync"/>).</summary>
/// <param name="Suppress">Dropped: another attempt follows or, hedged, may still answer. Otherwise it goes to the caller.</param>
/// <param name="ValidationFailed">It goes to the caller although a <c>retry_until</c> condition failed, which the caller is told.</param>
internal readonly record struct ResponseDecision(bool Suppress, bool ValidationFailed);
