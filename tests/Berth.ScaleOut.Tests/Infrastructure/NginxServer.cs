using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Berth.ScaleOut.Tests.Infrastructure;

/// <summary>One line of nginx's access log: the request, what the client got, and which upstream(s) nginx tried.</summary>
public sealed record AccessLogEntry(double Time, int Status, string Method, string Uri, IReadOnlyList<string> Upstreams)
{
    /// <summary>The upstream that produced the response (the last one nginx tried), or null when none answered.</summary>
    public string? ServedBy => Proxied ? Upstreams[^1] : null;

    /// <summary>
    /// False for what nginx answered itself without asking a node, e.g. the TLS hello skopeo tries first on a plain
    /// HTTP port (logged as a 400 with <c>$upstream_addr</c> "-").
    /// </summary>
    public bool Proxied => Upstreams.Count > 0 && Upstreams[^1] != "-";
}

/// <summary>
/// nginx (Debian's nginx-light) as the load balancer in front of the nodes, configured the way the README tells users
/// to: round-robin over the nodes with no upstream keepalive (so consecutive requests alternate nodes, which is what
/// lets a test see one upload's requests land on both), request and response bodies streamed rather than buffered,
/// no body size limit, and the client's Host passed through. Everything nginx writes (pid, logs, temp files) stays in
/// a private folder; it runs in the foreground as a child of the test host and is killed on dispose.
/// </summary>
public sealed class NginxServer : IDisposable
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(15);
    private readonly TempDirectory _folder = new("nginx");
    private ServiceProcess? _process;

    private NginxServer(int port)
    {
        Port = port;
    }

    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>: the registry host clients use, and the Host header every node sees.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public Uri BaseAddress => new($"http://{Host}/");

    public string AccessLogPath => _folder.Combine("access.log");

    public string ErrorLogPath => _folder.Combine("error.log");

    /// <summary>Writes the configuration for <paramref name="upstreams"/> (<c>host:port</c> each) and starts nginx on a free port.</summary>
    public static async Task<NginxServer> StartAsync(IReadOnlyList<string> upstreams)
    {
        var executable = FindExecutable();
        var server = new NginxServer(LoopbackPort.Free());
        try
        {
            var configuration = server._folder.Combine("nginx.conf");
            await File.WriteAllTextAsync(configuration, server.Configuration(upstreams));
            // -e: nginx opens its compiled-in error log before reading the configuration; point it into the folder too.
            var check = await ExternalTool.RunAsync(executable,
                ["-t", "-p", server._folder.Path, "-c", configuration, "-e", server.ErrorLogPath], timeout: StartupTimeout);
            if (check.ExitCode != 0) throw new InvalidOperationException("nginx rejected the generated configuration:\n" + check.Describe());
            server._process = ServiceProcess.Start(executable, ["-p", server._folder.Path, "-c", configuration, "-e", server.ErrorLogPath]);
            await server.WaitUntilListeningAsync();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Every request nginx has logged so far, oldest first, including those it answered itself (see <see cref="AccessLogEntry.Proxied"/>).</summary>
    public IReadOnlyList<AccessLogEntry> ReadAccessLog()
    {
        if (!File.Exists(AccessLogPath)) return [];
        using var stream = new FileStream(AccessLogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var entries = new List<AccessLogEntry>();
        while (reader.ReadLine() is { } line)
        {
            // $msec \t $status \t $upstream_addr \t $request ("METHOD URI PROTOCOL"); see Configuration.
            var fields = line.Split('\t');
            if (fields.Length != 4) continue;
            var request = fields[3].Split(' ');
            // A retried request lists every upstream tried, separated by ", " (and " : " across upstream groups).
            var upstreams = fields[2].Split([", ", " : "], StringSplitOptions.RemoveEmptyEntries);
            entries.Add(new AccessLogEntry(
                double.Parse(fields[0], CultureInfo.InvariantCulture),
                int.Parse(fields[1], CultureInfo.InvariantCulture),
                request.Length > 0 ? request[0] : "",
                request.Length > 1 ? request[1] : "",
                upstreams));
        }
        return entries;
    }

    /// <summary>
    /// The entry at <paramref name="index"/>, once nginx has written it (it logs a request when it ends, which may be a
    /// moment after the client saw the connection fail).
    /// </summary>
    public async Task<AccessLogEntry> WaitForAccessLogEntryAsync(int index) => (await ReadAccessLogAsync(index + 1))[index];

    /// <summary>
    /// The access log once it holds at least <paramref name="count"/> entries. nginx writes a request's line after its
    /// last response byte has gone out, so a client that has just read a response may look before the line is there.
    /// </summary>
    public Task<IReadOnlyList<AccessLogEntry>> ReadAccessLogAsync(int count) =>
        ReadAccessLogAsync(log => log.Count >= count, $"{count} requests");

    /// <summary>The access log once <paramref name="complete"/> holds for it (see <see cref="ReadAccessLogAsync(int)"/>).</summary>
    public async Task<IReadOnlyList<AccessLogEntry>> ReadAccessLogAsync(Func<IReadOnlyList<AccessLogEntry>, bool> complete, string expected)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var log = ReadAccessLog();
            if (complete(log)) return log;
            if (deadline.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException($"nginx did not log {expected} within 10 s ({log.Count} entries).\n{ErrorLog}");
            await Task.Delay(50);
        }
    }

    public string ErrorLog => File.Exists(ErrorLogPath) ? File.ReadAllText(ErrorLogPath) : "";

    public void Dispose()
    {
        _process?.Dispose();
        _folder.Dispose();
    }

    private string Configuration(IReadOnlyList<string> upstreams)
    {
        var folder = _folder.Path;
        // As root the master would hand its workers to "nobody", who cannot write the private folder.
        var user = Environment.UserName == "root" ? "user root;" : "";
        // A node that failed once is left alone for 3 s, then tried again (so a restarted node is back in turn quickly).
        var servers = string.Join("\n        ", upstreams.Select(u => $"server {u} max_fails=1 fail_timeout=3s;"));
        return $$"""
            # Generated by the scale-out tests. One worker: round-robin state is per worker, so with one the
            # alternation between nodes is exact and a test can rely on it.
            {{user}}
            daemon off;
            worker_processes 1;
            pid {{folder}}/nginx.pid;
            error_log {{folder}}/error.log warn;

            events {
                worker_connections 1024;
            }

            http {
                log_format upstreams '$msec\t$status\t$upstream_addr\t$request';
                access_log {{folder}}/access.log upstreams;

                client_body_temp_path {{folder}}/client_body;
                proxy_temp_path {{folder}}/proxy;
                fastcgi_temp_path {{folder}}/fastcgi;
                uwsgi_temp_path {{folder}}/uwsgi;
                scgi_temp_path {{folder}}/scgi;

                # No keepalive directive: every request opens its own connection to the next node in turn.
                upstream berth {
                    {{servers}}
                }

                server {
                    listen 127.0.0.1:{{Port}};

                    # Layers can be many GiB; the nodes stream them to storage, so nginx must neither cap nor spool them.
                    client_max_body_size 0;
                    proxy_request_buffering off;
                    proxy_buffering off;
                    proxy_http_version 1.1;

                    # Berth picks the registry by Host and builds the token realm from it, so clients must see the
                    # balancer's host:port there, never a node's.
                    proxy_set_header Host $http_host;
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    proxy_set_header X-Forwarded-Proto $scheme;
                    proxy_set_header X-Forwarded-Host $http_host;

                    # A node that refuses the connection (down) or does not answer is skipped. nginx never retries a
                    # POST or PATCH once it has been sent, and with unbuffered bodies nothing already streamed is
                    # resent: a client whose chunk was cut off asks the registry where the upload stands and resends.
                    proxy_next_upstream error timeout;
                    proxy_next_upstream_tries 2;
                    proxy_connect_timeout 2s;
                    proxy_send_timeout 300s;
                    proxy_read_timeout 300s;

                    location / {
                        proxy_pass http://berth;
                    }
                }
            }
            """;
    }

    private async Task WaitUntilListeningAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartupTimeout)
        {
            if (_process!.HasExited)
                throw new InvalidOperationException($"nginx exited with code {_process.ExitCode} at start-up.\n{_process.Output}\n{ErrorLog}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new TimeoutException($"nginx did not listen on {Host} within {StartupTimeout.TotalSeconds} s.\n{_process!.Output}\n{ErrorLog}");
    }

    private static string FindExecutable()
    {
        // Debian installs nginx in /usr/sbin, which is not on every user's PATH.
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin").Select(directory => Path.Combine(directory, "nginx"));
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nginx is not installed (Debian: apt-get install nginx-light; scripts/test.sh installs it). The scale-out tests need it as their load balancer.");
    }
}
