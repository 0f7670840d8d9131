using Microsoft.AspNetCore.DataProtection;

namespace Sidecar.Hosting;

/// <summary>
/// Data protection with in-memory keys, made on first use. YARP's session-affinity policies ask for their protectors
/// when the proxy pipeline is built, at every start; Sidecar configures no session affinity, so nothing is ever
/// protected and no key is ever made. Were one made, it would die with the process, as a pod's would.
/// </summary>
internal sealed class DeferredDataProtectionProvider : IDataProtectionProvider
{
    private readonly Lazy<IDataProtectionProvider> _keys = new(static () => new EphemeralDataProtectionProvider());

    public IDataProtector CreateProtector(string purpose) => new Protector(_keys, [purpose]);

    private sealed class Protector(Lazy<IDataProtectionProvider> keys, string[] purposes) : IDataProtector
    {
        private readonly Lazy<IDataProtector> _protector = new(() => keys.Value.CreateProtector(purposes[0], purposes[1..]));

        public IDataProtector CreateProtector(string purpose) => new Protector(keys, [.. purposes, purpose]);

        public byte[] Protect(byte[] plaintext) => _protector.Value.Protect(plaintext);

        public byte[] Unprotect(byte[] protectedData) => _protector.Value.Unprotect(protectedData);
    }
}
