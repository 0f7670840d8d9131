namespace Sidecar.Logging;

/// <summary>
/// Something whose activity is logged as a bounded summary: <see cref="LogSummaryService"/> calls every registered
/// source once per interval and once more at shutdown. The rule for a source that also logs state changes (as
/// <see cref="ClusterLogState"/> does, and as overload start/end should): log a state's start when it happens and its
/// end from <see cref="Summarize"/> when the state is found over, so nothing a caller or upstream does yields more
/// than one start and one end line per interval. Register with
/// <c>services.AddSingleton&lt;ILogSummarySource&gt;(...)</c>.
/// </summary>
internal interface ILogSummarySource
{
    /// <summary>Logs what happened in the last <paramref name="interval"/> (if anything) and resets the counts.</summary>
    void Summarize(TimeSpan interval);
}
