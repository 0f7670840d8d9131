namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>One request as an upstream saw it; <see cref="Number"/> counts from 1 in order of arrival.</summary>
public sealed record RecordedRequest(int Number, string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTimeOffset At)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}
