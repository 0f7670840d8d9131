using Yarp.ReverseProxy.Model;

namespace Sidecar.Pipeline;

/// <summary>
/// Envoy's <c>previous_hosts</c>: a retry prefers destinations not tried yet, falling back to all of them. A struct,
/// kept in its sender's field, so a request that is never retried allocates nothing for it.
/// </summary>
internal struct UntriedDestinations
{
    private readonly IReadOnlyList<DestinationState> _all;
    private List<DestinationState>? _tried;

    public UntriedDestinations(IReadOnlyList<DestinationState> all) => _all = all;

    public void Tried(DestinationState destination) => (_tried ??= []).Add(destination);

    /// <summary>The destinations not tried yet; all of them when every one was (or there is only one).</summary>
    public readonly IReadOnlyList<DestinationState> Next()
    {
        if (_tried is null || _all.Count <= 1)
        {
            return _all;
        }

        List<DestinationState>? untried = null;
        foreach (var destination in _all)
        {
            if (!_tried.Contains(destination))
            {
                (untried ??= new List<DestinationState>(_all.Count)).Add(destination);
            }
        }

        return untried ?? _all;
    }
}
