namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>Polls a condition until it holds or a bound passes: for effects that are asynchronous by design (hot reload).</summary>
public static class Eventually
{
    public static async Task<T> ReturnsAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan within, string what)
    {
        var deadline = DateTime.UtcNow + within;
        T last;
        do
        {
            last = await probe();
            if (done(last))
            {
                return last;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"{what} did not happen within {within.TotalSeconds:0.#}s; last value: {last}");
    }
}
