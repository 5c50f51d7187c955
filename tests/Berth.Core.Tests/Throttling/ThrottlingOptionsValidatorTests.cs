using Berth.Core.Throttling;

namespace Berth.Core.Tests.Throttling;

public sealed class ThrottlingOptionsValidatorTests
{
    [Fact]
    public void Defaults_AreValid() =>
        Assert.True(new ThrottlingOptionsValidator().Validate(null, new ThrottlingOptions()).Succeeded);

    [Fact]
    public void ZeroRate_FailsNamingTheSetting()
    {
        var options = new ThrottlingOptions();
        options.Premium.Referrers.PerMinute = 0;

        var result = new ThrottlingOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Berth:Throttling:Premium:Referrers:PerMinute", result.FailureMessage);
    }

    [Fact]
    public void BurstBelowOne_FailsNamingTheSetting()
    {
        var options = new ThrottlingOptions();
        options.Basic.Token.Burst = 0.5;

        var result = new ThrottlingOptionsValidator().Validate(null, options);

        Assert.Contains("Berth:Throttling:Basic:Token:Burst", result.FailureMessage);
    }

    [Fact]
    public void PerAddressShareAboveAnonymousShare_Fails()
    {
        var result = new ThrottlingOptionsValidator().Validate(null, new ThrottlingOptions { AnonymousShare = 0.1, AnonymousPerAddressShare = 0.2 });

        Assert.Contains("AnonymousPerAddressShare", result.FailureMessage);
    }

    [Fact]
    public void ShareAboveOne_Fails()
    {
        var result = new ThrottlingOptionsValidator().Validate(null, new ThrottlingOptions { AnonymousShare = 2 });

        Assert.Contains("Berth:Throttling:AnonymousShare", result.FailureMessage);
    }
}
