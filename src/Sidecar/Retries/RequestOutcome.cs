namespace Sidecar.Retries;

/// <summary>The fate of one request: the <c>outcome</c> label of <c>sidecar_requests_total</c> (SPEC §5).</summary>
internal static class RequestOutcome
{
    public const string Success = "success";
    public const string SuccessAfterRetry = "success_after_retry";
    public const string Exhausted = "exhausted";
    public const string DeadlineExceeded = "deadline_exceeded";
    public const string BudgetExhausted = "budget_exhausted";
    public const string CircuitOpen = "circuit_open";
    public const string NotRetryable = "not_retryable";
    public const string ClientCancelled = "client_cancelled";
}
