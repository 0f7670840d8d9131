using Microsoft.Extensions.Primitives;
using Sidecar.Http;

namespace Sidecar.Retries;

/// <summary>Whether a request may be sent again after the upstream may have seen it.</summary>
internal static class Idempotency
{
    /// <param name="method">The request's method.</param>
    /// <param name="idempotencyKey">Its <c>Idempotency-Key</c> header values.</param>
    /// <param name="methods">The policy's <c>methods</c>.</param>
    public static bool IsIdempotent(string method, StringValues idempotencyKey, IReadOnlySet<string> methods)
    {
        if (methods.Contains(method))
        {
            return true;
        }

        // An Idempotency-Key makes POST and PATCH safe to repeat (draft-ietf-httpapi-idempotency-key-header), as long
        // as it names one operation: a blank or repeated key lets the upstream deduplicate nothing.
        if (!HttpMethods.IsPost(method) && !HttpMethods.IsPatch(method))
        {
            return false;
        }

        return idempotencyKey.Count == 1 && !string.IsNullOrWhiteSpace(idempotencyKey[0]);
    }

    /// <summary>The request's <see cref="IsIdempotent(string, StringValues, IReadOnlySet{string})"/>.</summary>
    public static bool IsIdempotent(HttpRequest request, IReadOnlySet<string> methods) =>
        IsIdempotent(request.Method, request.Headers[SidecarHeaders.IdempotencyKey], methods);
}
