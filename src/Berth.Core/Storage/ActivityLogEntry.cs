namespace Berth.Core.Storage;

/// <summary>One recorded change of a registry setting: who changed what, when, from which value to which.</summary>
public sealed record ActivityLogEntry(string Registry, DateTimeOffset At, string Actor, string Setting, string? OldValue, string? NewValue);
