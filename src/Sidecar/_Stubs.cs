// TEMPORARY: signatures of pieces being written on other branches; deleted at merge.
#pragma warning disable
using System.Diagnostics;
using Microsoft.Extensions.Primitives;
using Sidecar.Configuration;

namespace Sidecar.Retries
{
    internal interface IRandomSource { double NextDouble(); }
    internal sealed class SharedRandomSource : IRandomSource { public double NextDouble() => Random.Shared.NextDouble(); }
    internal sealed class BackoffSchedule
    {
        public BackoffSchedule(BackoffOptions options, int maxAttempts) { }
        public TimeSpan BaseDelay(int retry) => TimeSpan.Zero;
        public TimeSpan NextDelay(int retry, TimeSpan previousDelay, double random01) => TimeSpan.FromMilliseconds(10);
        public (TimeSpan Min, TimeSpan Max) Bounds(int retry) => default;
    }
    internal static class RetryAfterParser { public static bool TryParse(string? value, DateTimeOffset now, out TimeSpan delay) { delay = default; return int.TryParse(value, out var s) && (delay = TimeSpan.FromSeconds(s)) >= TimeSpan.Zero; } }
    internal static class PushbackParser { public static bool TryParse(string? value, out TimeSpan delay, out bool stop) { delay = default; stop = false; if (!int.TryParse(value, out var ms)) return false; stop = ms < 0; if (!stop) delay = TimeSpan.FromMilliseconds(ms); return true; } }
    internal static class DeadlineHeaderParser
    {
        public static bool TryParseTimeoutMs(string? value, out TimeSpan timeout) { timeout = default; if (!int.TryParse(value, out var ms) || ms <= 0) return false; timeout = TimeSpan.FromMilliseconds(ms); return true; }
        public static bool TryParseGrpcTimeout(string? value, out TimeSpan timeout) { timeout = default; return false; }
    }
    internal sealed class RetryBudget
    {
        public RetryBudget(TimeProvider timeProvider) { }
        public void RecordRequest() { }
        public bool TryAcquireRetry(BudgetOptions options) => true;
    }
    internal sealed class ConcurrencyLimiter
    {
        private int _current; private readonly int _limit;
        public ConcurrencyLimiter(int limit) => _limit = limit;
        public int Current => _current;
        public bool TryEnter() { if (Interlocked.Increment(ref _current) > _limit) { Interlocked.Decrement(ref _current); return false; } return true; }
        public void Exit() => Interlocked.Decrement(ref _current);
    }
    internal static class StatusClass { public static string Of(int status) => (status / 100) + "xx"; }
}

