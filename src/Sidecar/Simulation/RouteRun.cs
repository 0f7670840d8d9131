namespace Sidecar.Simulation;

/// <summary>The result of simulating one route under one policy.</summary>
/// <param name="Route">The route's name.</param>
/// <param name="Policy">The policy it ran (<c>none</c> for none).</param>
/// <param name="MaxAttempts">The policy's attempt limit (1 for none).</param>
/// <param name="Stats">What the callers saw.</param>
/// <param name="Unfinished">Calls still in flight when the run was cut off (a deadline-less policy against a dead upstream).</param>
/// <param name="Budget">The policy's budget, as text, or null when it has none.</param>
/// <param name="Real">Real time the run took.</param>
internal sealed record RouteRun(string Route, string Policy, int MaxAttempts, RouteStats Stats, long Unfinished, string? Budget, TimeSpan Real);
