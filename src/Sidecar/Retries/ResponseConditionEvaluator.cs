using System.Text.Json;
using Sidecar.Configuration;
using Sidecar.Policies;

namespace Sidecar.Retries;

/// <summary>
/// Evaluates <c>retry_until</c>: a response is accepted only when every condition holds. JSON conditions read the
/// body, so only small bodies are judged (<see cref="MaxBodyBytes"/>); the body is buffered in the upstream response
/// and YARP still streams it to the caller afterwards. A body too large or not JSON fails a JSON condition.
/// </summary>
internal sealed class ResponseConditionEvaluator
{
    /// <summary>Validation is for small API answers (job status, health documents); larger bodies are not buffered.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    public async ValueTask<bool> AcceptsAsync(RetryPlan plan, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        byte[]? body = null;
        foreach (var condition in plan.Options.RetryUntil)
        {
            if (condition.Status.Count > 0 && !MatchesAny(condition.Status, (int)response.StatusCode))
            {
                return false;
            }

            if (condition.Header is { } header && !RetryPlan.HeaderMatches(response, header))
            {
                return false;
            }

            if (condition.JsonPath is { } path)
            {
                body ??= await ReadSmallBodyAsync(response, cancellationToken);
                if (body is null || !JsonFieldEquals(body, path, condition.JsonEquals))
                {
                    return false;
                }
            }
        }

        return true;
    }

    internal static bool JsonFieldEquals(byte[] body, string path, string? expected)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var element = document.RootElement;
            foreach (var segment in path.Split('.'))
            {
                if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(segment, out element))
                {
                    return false;
                }
            }

            var actual = element.ValueKind switch
            {
                JsonValueKind.String => element.GetString(),
                JsonValueKind.Null => "null",
                _ => element.GetRawText(),
            };
            return string.Equals(actual, expected, StringComparison.Ordinal);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool MatchesAny(IReadOnlyList<StatusMatcher> matchers, int status)
    {
        foreach (var matcher in matchers)
        {
            if (matcher.Matches(status))
            {
                return true;
            }
        }

        return false;
    }

    private static async ValueTask<byte[]?> ReadSmallBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength is > MaxBodyBytes)
        {
            return null;
        }

        try
        {
            // Buffering inside the HttpContent means YARP's later ReadAsStreamAsync replays the same bytes.
            await response.Content.LoadIntoBufferAsync(MaxBodyBytes, cancellationToken);
            return await response.Content.ReadAsByteArrayAsync(cancellationToken);
        }
        catch (HttpRequestException)
        {
            // Larger than the limit (chunked) or the upstream broke off: the condition cannot be shown to hold.
            return null;
        }
    }
}
