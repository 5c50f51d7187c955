namespace Berth.Testing;

/// <summary>
/// The test server with request throttling off, for tests that send many requests as one identity from one
/// address (authorization matrices, token flows, real clients, load) and are about something other than throttling.
/// Subclasses add their own arguments through <see cref="MoreArguments"/>.
/// </summary>
public class UnthrottledBerthTestServer : BerthTestServer
{
    protected sealed override IEnumerable<string> ExtraArguments => ["--Berth:Throttling:Enabled=false", .. MoreArguments];

    protected virtual IEnumerable<string> MoreArguments => [];
}
