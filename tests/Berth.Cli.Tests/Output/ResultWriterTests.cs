using System.Text.Json.Nodes;
using Berth.Cli.Cli;
using Berth.Cli.Output;

namespace Berth.Cli.Tests.Output;

public sealed class ResultWriterTests
{
    private const string WireRegistry = """
        {"id":"/subscriptions/s/resourceGroups/MyRG/providers/Microsoft.ContainerRegistry/registries/myregistry","name":"myregistry",
         "type":"Microsoft.ContainerRegistry/registries","location":"local","sku":{"name":"Standard","tier":"Standard"},
         "properties":{"loginServer":"myregistry.acr.localhost","adminUserEnabled":true,"provisioningState":"Succeeded",
                       "policies":{"azureADAuthenticationAsArmPolicy":{"status":"enabled"}},"futureField":42}}
        """;

    [Fact]
    public void Registry_PropertiesAreLiftedAndResourceGroupAdded()
    {
        var registry = ArmShapes.Registry(JsonNode.Parse(WireRegistry));
        Assert.Equal("myregistry.acr.localhost", (string?)registry["loginServer"]);
        Assert.Equal("MyRG", (string?)registry["resourceGroup"]);
        Assert.Equal(42, (int?)registry["futureField"]);
        Assert.False(registry.ContainsKey("properties"));
    }

    [Fact]
    public void Registry_AbsentSwitchesDefaultToFalseAndModelFieldsToNull()
    {
        var registry = ArmShapes.Registry(JsonNode.Parse(WireRegistry));
        Assert.False((bool?)registry["anonymousPullEnabled"]);
        Assert.True(registry.ContainsKey("networkRuleSet"));
        Assert.Null(registry["networkRuleSet"]);
    }

    [Fact]
    public void Registry_ArmPolicyIsSpelledAsAzPrintsIt()
    {
        var registry = ArmShapes.Registry(JsonNode.Parse(WireRegistry));
        Assert.NotNull(registry["policies"]?["azureAdAuthenticationAsArmPolicy"]);
        Assert.Null(registry["policies"]?["azureADAuthenticationAsArmPolicy"]);
    }

    [Fact]
    public void ScopeMap_PropertiesTypeBecomesScopeMapType()
    {
        var map = ArmShapes.ScopeMap(JsonNode.Parse("""{"id":"/subscriptions/s/resourceGroups/rg/providers/x/registries/r/scopeMaps/m","name":"m","type":"Microsoft.ContainerRegistry/registries/scopeMaps","properties":{"type":"UserDefined","actions":["repositories/a/content/read"]}}"""));
        Assert.Equal("UserDefined", (string?)map["scopeMapType"]);
        Assert.Equal("Microsoft.ContainerRegistry/registries/scopeMaps", (string?)map["type"]);
    }

    [Fact]
    public void Query_BooleanPrintsAsJsonLiteral()
    {
        var registry = ArmShapes.Registry(JsonNode.Parse(WireRegistry));
        var result = ResultWriter.ApplyQuery(registry, "anonymousPullEnabled");
        Assert.Equal("false\n", ResultWriter.Format(result, OutputFormat.Json));
        Assert.Equal("false\n", ResultWriter.Format(result, OutputFormat.Tsv));
    }

    [Fact]
    public void Query_InvalidExpressionIsAUsageError()
    {
        var error = Assert.Throws<CliException>(() => ResultWriter.ApplyQuery(new JsonObject(), "[?"));
        Assert.Equal(CliException.UsageExitCode, error.ExitCode);
    }

    [Fact]
    public void Json_KeysAreSortedAndIndentedByTwo()
    {
        var text = ResultWriter.Format(JsonNode.Parse("""{"b":1,"a":{"d":[],"c":{}}}"""), OutputFormat.Json);
        Assert.Equal("{\n  \"a\": {\n    \"c\": {},\n    \"d\": []\n  },\n  \"b\": 1\n}\n", text);
    }

    [Fact]
    public void Json_NonAsciiIsNotEscaped()
    {
        Assert.Equal("\"é+<\"\n", ResultWriter.Format(JsonValue.Create("é+<"), OutputFormat.Json));
    }

    [Fact]
    public void Jsonc_ColoursKeysAndValues()
    {
        var text = ResultWriter.Format(JsonNode.Parse("""{"a":true}"""), OutputFormat.Jsonc);
        Assert.Contains("\u001b[", text);
        Assert.Contains("true", text);
    }

    [Fact]
    public void Tsv_ObjectIsOneLineOfValuesInKeyOrder()
    {
        var text = ResultWriter.Format(JsonNode.Parse("""{"b":"x","a":true,"c":[1,2],"d":{"e":1},"f":null}"""), OutputFormat.Tsv);
        Assert.Equal("true\tx\t2\t\t\n", text);
    }

    [Fact]
    public void Tsv_ListGivesOneLinePerItem()
    {
        Assert.Equal("hello\nworld\n", ResultWriter.Format(JsonNode.Parse("""["hello","world"]"""), OutputFormat.Tsv));
    }

    [Fact]
    public void Table_RegistryListUsesAzColumns()
    {
        var list = new JsonArray(ArmShapes.Registry(JsonNode.Parse(WireRegistry)));
        var lines = ResultWriter.Format(list, OutputFormat.Table, ArmShapes.RegistryTable).Split('\n');
        Assert.StartsWith("NAME        RESOURCE GROUP  LOCATION  SKU       LOGIN SERVER", lines[0]);
        Assert.StartsWith("----------  --------------", lines[1]);
        Assert.StartsWith("myregistry  MyRG            local     Standard  myregistry.acr.localhost", lines[2]);
    }

    [Fact]
    public void Table_ScalarListHasAResultColumn()
    {
        Assert.Equal("Result\n-------\nalpine\nbusybox\n", TableFormatter.Format(JsonNode.Parse("""["alpine","busybox"]"""), null));
    }

    [Fact]
    public void Table_WithoutLayoutUsesScalarPropertiesCapitalised()
    {
        var text = TableFormatter.Format(JsonNode.Parse("""[{"name":"a","nested":{"x":1},"count":2}]"""), null);
        Assert.Equal("Name  Count\n----  -----\na     2\n", text);
    }

    [Fact]
    public void None_PrintsNothing()
    {
        Assert.Equal("", ResultWriter.Format(JsonNode.Parse("{}"), OutputFormat.None));
    }
}
