using Berth.Cli;

return await BerthCommand.RunAsync(args);
