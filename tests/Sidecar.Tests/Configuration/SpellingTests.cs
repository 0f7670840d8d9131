using Sidecar.Configuration;

namespace Sidecar.Tests.Configuration;

public sealed class SpellingTests
{
    private static readonly string[] PolicyKeys = ["max_attempts", "backoff", "retry_on", "per_try_timeout", "timeout"];

    [Theory]
    [InlineData("max_attemps", "max_attempts")]
    [InlineData("maxAttempts", "max_attempts")]
    [InlineData("retry-on", "retry_on")]
    [InlineData("backof", "backoff")]
    [InlineData("timout", "timeout")]
    [InlineData("bakcoff", "backoff")]
    public void Closest_Typo_ReturnsIntendedKey(string input, string expected) =>
        Assert.Equal(expected, Spelling.Closest(input, PolicyKeys));

    [Theory]
    [InlineData("colour")]
    [InlineData("x")]
    public void Closest_UnrelatedWord_ReturnsNull(string input) =>
        Assert.Null(Spelling.Closest(input, PolicyKeys));
}
