using Microsoft.AspNetCore.Http.Features;

namespace Sidecar.Forwarding;

/// <summary>
/// An upstream response that HTTP does not allow and that could not be relayed as it came: Kestrel refuses a
/// <c>Content-Length</c> on a response that cannot have content (a bare 500 and an "unhandled exception" before), and
/// writes a status line outside 100..599 as sent. Found by <see cref="UpstreamResponseTransform"/>, which suppresses the
/// response and sets the instance as a request feature; the caller gets a 502 problem+json instead.
/// </summary>
internal sealed class InvalidUpstreamResponse
{
    /// <summary>The <c>reason</c> of the problem response.</summary>
    public const string ProblemReason = "invalid_upstream_response";

    public const string ProblemTitle = "Invalid response from the upstream";

    private static readonly InvalidUpstreamResponse StatusOutOfRange = new("status code outside 100-599");
    private static readonly InvalidUpstreamResponse ContentOnBodilessStatus = new("Content-Length on a 1xx, 204 or 205 response (RFC 9110 §8.6)");
    private static readonly InvalidUpstreamResponse UnrequestedUpgrade = new("101 Switching Protocols to a request that asked for no upgrade");

    private InvalidUpstreamResponse(string reason) => Reason = reason;

    /// <summary>What is wrong, for the log.</summary>
    public string Reason { get; }

    /// <summary>What is wrong with <paramref name="response"/>, or null when it can be relayed.</summary>
    public static InvalidUpstreamResponse? Check(HttpContext context, HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        if (status is < 100 or > 599)
        {
            return StatusOutOfRange;
        }

        if (status is >= 200 and not 204 and not 205)
        {
            return null;
        }

        // YARP itself drops a "Content-Length: 0" from these; any other value is a body they cannot have.
        if (response.Content.Headers.NonValidated.TryGetValues(Microsoft.Net.Http.Headers.HeaderNames.ContentLength, out var length)
            && !string.Equals(length.ToString(), "0", StringComparison.Ordinal))
        {
            return ContentOnBodilessStatus;
        }

        if (status == StatusCodes.Status101SwitchingProtocols && !AskedForUpgrade(context))
        {
            return UnrequestedUpgrade;
        }

        return null;
    }

    private static bool AskedForUpgrade(HttpContext context) =>
        context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true
        || context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect == true;
}
