namespace Berth.Browser.Tests.Infrastructure;

/// <summary>One seeded server for every browser test; the tests run one after another, each in a fresh browser.</summary>
[CollectionDefinition(Name)]
public sealed class WebPageCollection : ICollectionFixture<SeededRegistry>
{
    public const string Name = "web page in a real browser";
}
