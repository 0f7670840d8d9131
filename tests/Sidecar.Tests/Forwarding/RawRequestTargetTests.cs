using Microsoft.AspNetCore.Http.Features;
using Sidecar.Forwarding;

namespace Sidecar.Tests.Forwarding;

public sealed class RawRequestTargetTests
{
    [Theory]
    [InlineData("/a%2Fb")]
    [InlineData("/a%2fb?q=%2F&r=a%20b")]
    [InlineData("/")]
    [InlineData("/x/%2E%2Fy/...")]
    [InlineData("/.well-known/a%2Fb")]
    [InlineData("//double/slash")]
    public void TryGet_ForwardableTarget_ReturnsItUnchanged(string raw)
    {
        Assert.True(RawRequestTarget.TryGet(Context(raw), out var target));
        Assert.Equal(raw, target);
    }

    [Theory]
    [InlineData("")]
    [InlineData("*")]
    [InlineData("http://other/a%2Fb")]
    [InlineData("/a/../b")]
    [InlineData("/a/%2e%2E/b")]
    [InlineData("/a/.")]
    [InlineData("/./a")]
    [InlineData("/a/%2E")]
    [InlineData("/a b")]
    [InlineData("/a#frag")]
    [InlineData("/a\\b")]
    [InlineData("/caf\u00e9")]
    public void TryGet_TargetRoutingSawDifferentlyOrUnsafe_False(string raw)
    {
        Assert.False(RawRequestTarget.TryGet(Context(raw), out _));
    }

    [Fact]
    public void TryGet_DotSegmentOnlyInQuery_Forwardable()
    {
        Assert.True(RawRequestTarget.TryGet(Context("/a?next=/../b"), out _));
    }

    [Theory]
    [InlineData("http://up:8080", "/a%2Fb?x=%2F", "/a%2Fb?x=%2F")]
    [InlineData("http://up:8080/", "/a%2Fb", "/a%2Fb")]
    [InlineData("http://up:8080/base", "/a%2Fb/%7E", "/base/a%2Fb/%7E")]
    public void Destination_KeepsTheTargetVerbatim(string prefix, string target, string pathAndQuery)
    {
        var uri = RawRequestTarget.Destination(prefix, target);

        Assert.Equal(pathAndQuery, uri.PathAndQuery);
        Assert.Equal("up", uri.Host);
        Assert.Equal(8080, uri.Port);
    }

    private static DefaultHttpContext Context(string rawTarget)
    {
        var context = new DefaultHttpContext();
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = rawTarget;
        return context;
    }
}
