namespace Berth.Server.Hosting;

/// <summary>Chooses the registry a request addresses. Until registries are managed, every host maps to the default registry.</summary>
public sealed class RegistryResolver(BerthOptions options)
{
    public string Resolve(HttpContext context) => options.DefaultRegistry;
}
