namespace Sidecar.Configuration;

/// <summary>The keys of each entry of <c>policies</c>.</summary>
internal static class PolicyKeys
{
    public const string MaxAttempts = "max_attempts";
    public const string Backoff = "backoff";
    public const string RetryOn = "retry_on";
    public const string Methods = "methods";
    public const string PerTryTimeout = "per_try_timeout";
    public const string Timeout = "timeout";
    public const string RetryAfter = "retry_after";
    public const string BufferLimit = "buffer_limit";
    public const string Budget = "budget";
    public const string MaxConcurrentRetries = "max_concurrent_retries";
    public const string AllowOverrides = "allow_overrides";
    public const string AllowExplain = "allow_explain";
    public const string RetryUntil = "retry_until";
    public const string Hedge = "hedge";

    /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
    public static IReadOnlyList<string> All { get; } = [MaxAttempts, Backoff, RetryOn, Methods, PerTryTimeout, Timeout, RetryAfter, BufferLimit, Budget, MaxConcurrentRetries, AllowOverrides, AllowExplain, RetryUntil, Hedge];

    /// <summary>The keys of <c>policies.&lt;name&gt;.retry_after</c>.</summary>
    internal static class RetryAfterKeys
    {
        public const string Honor = "honor";
        public const string Max = "max";

        /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
        public static IReadOnlyList<string> All { get; } = [Honor, Max];
    }

    /// <summary>The keys of <c>policies.&lt;name&gt;.budget</c>.</summary>
    internal static class BudgetKeys
    {
        public const string Enabled = "enabled";
        public const string Ratio = "ratio";
        public const string MinPerSecond = "min_per_second";
        public const string Window = "window";

        /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
        public static IReadOnlyList<string> All { get; } = [Enabled, Ratio, MinPerSecond, Window];
    }

    /// <summary>The keys of each condition of <c>policies.&lt;name&gt;.retry_until</c>.</summary>
    internal static class ConditionKeys
    {
        public const string Status = "status";
        public const string Header = "header";
        public const string Json = "json";

        /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
        public static IReadOnlyList<string> All { get; } = [Status, Header, Json];
    }

    /// <summary>The keys of <c>retry_until[].json</c>.</summary>
    internal static class JsonConditionKeys
    {
        public const string Path = "path";
        public const string Equal = "equals";

        /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
        public static IReadOnlyList<string> All { get; } = [Path, Equal];
    }

    /// <summary>The keys of <c>policies.&lt;name&gt;.hedge</c>.</summary>
    internal static class HedgeKeys
    {
        public const string Delay = "delay";
        public const string MaxExtra = "max_extra";

        /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
        public static IReadOnlyList<string> All { get; } = [Delay, MaxExtra];
    }
}
