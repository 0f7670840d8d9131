using Sidecar.Cli;

namespace Sidecar;

internal static class Program
{
    public static Task<int> Main(string[] args) => SidecarCommandLine.Create().Parse(args).InvokeAsync();
}
