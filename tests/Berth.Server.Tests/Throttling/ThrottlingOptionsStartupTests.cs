using Berth.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Berth.Server.Tests.Throttling;

public sealed class ThrottlingOptionsStartupTests
{
    [Fact]
    public async Task InvalidThrottlingSetting_StopsStartUpNamingTheSetting()
    {
        var dataPath = Path.Combine(Path.GetTempPath(), "berth-test-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            await using var app = BerthApp.Build(["--urls", "http://127.0.0.1:0", "--Berth:DataPath=" + dataPath, "--Berth:Throttling:Basic:Read:PerMinute=-5"]);

            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

            Assert.Contains("Berth:Throttling:Basic:Read:PerMinute (-5) must be a positive number", error.Message);
        }
        finally
        {
            if (Directory.Exists(dataPath)) Directory.Delete(dataPath, recursive: true);
        }
    }
}
