namespace Sidecar.Overload;

/// <summary>
/// Whether <see cref="RequestAdmission"/> let a request in; if so, the bytes of buffer room it reserved for its replay
/// copy (give them back to <see cref="RequestAdmission.Exit(Routing.RouteInFlight?, long)"/>), and whether it goes
/// without the copy it wanted because memory is short.
/// </summary>
internal readonly record struct AdmissionEntry(bool Admitted, long CopyBytes, bool CopyShed);
