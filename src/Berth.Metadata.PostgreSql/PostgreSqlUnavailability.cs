using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Berth.Core.Storage;
using Npgsql;

namespace Berth.Metadata.PostgreSql;

/// <summary>
/// The one place that decides which PostgreSQL failures mean "the database cannot be reached right now" and turns them
/// into <see cref="ProviderUnavailableException"/> (503 with Retry-After at the host). Every store is wrapped by
/// <see cref="Guard{TStore}"/> when it is registered, so the translation covers opening a connection, running commands,
/// reading results and committing alike, and a store method added later is covered without thinking about it.
/// Constraint violations, syntax errors and other bugs pass through unchanged: they are not the database's absence.
/// </summary>
internal static class PostgreSqlUnavailability
{
    public const string Provider = "PostgreSQL";

    /// <summary><paramref name="store"/> with its failures translated; <paramref name="database"/>'s pool is cleared on each.</summary>
    public static TStore Guard<TStore>(TStore store, PostgreSqlDatabase database) where TStore : class
    {
        var proxy = DispatchProxy.Create<TStore, GuardProxy>();
        var guard = (GuardProxy)(object)proxy;
        guard.Target = store;
        guard.Database = database;
        return proxy;
    }

    /// <summary>
    /// Connection refused or reset, a timeout (connecting, or a pool that cannot hand out a connection), and the server
    /// saying it is going away or not accepting connections: SQLSTATE class 08 (connection exception), class 53
    /// (insufficient resources: too many connections, disk full), 57P01 admin shutdown ("terminating connection due to
    /// administrator command"), 57P02 crash shutdown, 57P03 cannot connect now ("the database system is shutting down"
    /// or "is starting up"). Serialization failures and deadlocks are transient too, but they are about the request,
    /// not the database's availability; they keep their own handling.
    /// </summary>
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        PostgresException e => e.SqlState.StartsWith("08", StringComparison.Ordinal) || e.SqlState.StartsWith("53", StringComparison.Ordinal)
                               || e.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,
        NpgsqlException e => e.IsTransient,
        SocketException or TimeoutException => true,
        _ => false,
    };

    public static ProviderUnavailableException Translate(Exception exception) =>
        new(Provider, Describe(exception), exception);

    /// <summary>
    /// One line a client may see in the 503 body: what went wrong, without the host name, port or user of the
    /// connection string (the log line has the same text; the exception chain is kept as the inner exception).
    /// </summary>
    private static string Describe(Exception exception)
    {
        if (exception is PostgresException postgres)
            return $"the metadata database refused the operation ({postgres.SqlState}: {postgres.MessageText})";
        var innermost = exception;
        while (innermost.InnerException is not null) innermost = innermost.InnerException;
        return innermost is TimeoutException
            ? "the metadata database did not answer in time"
            : $"cannot reach the metadata database ({innermost.Message.TrimEnd('.')})";
    }

    /// <summary>Forwards every call to the store; a failed task (or a synchronous throw) that <see cref="IsUnavailable"/> is translated.</summary>
    public class GuardProxy : DispatchProxy
    {
        private static readonly MethodInfo TranslateResultMethod = typeof(GuardProxy).GetMethod(nameof(TranslateResultAsync), BindingFlags.NonPublic | BindingFlags.Instance)!;
        private static readonly ConcurrentDictionary<Type, MethodInfo> TranslateResultByType = new();

        internal object Target { get; set; } = null!;
        internal PostgreSqlDatabase Database { get; set; } = null!;

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            object? result;
            try
            {
                result = method!.Invoke(Target, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                if (IsUnavailable(e.InnerException)) throw Unavailable(e.InnerException);
                ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
            return result switch
            {
                null => null,
                Task task when method.ReturnType == typeof(Task) => TranslateAsync(task),
                Task task when method.ReturnType.IsGenericType && method.ReturnType.GetGenericTypeDefinition() == typeof(Task<>) =>
                    TranslateResultByType.GetOrAdd(method.ReturnType.GetGenericArguments()[0], t => TranslateResultMethod.MakeGenericMethod(t))
                        .Invoke(this, [task]),
                _ => result,
            };
        }

        private async Task TranslateAsync(Task task)
        {
            try
            {
                await task;
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                throw Unavailable(e);
            }
        }

        private async Task<T> TranslateResultAsync<T>(Task<T> task)
        {
            try
            {
                return await task;
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                throw Unavailable(e);
            }
        }

        /// <summary>
        /// Also empties the pool: connections idle in it from before an outage are dead, and without this each would
        /// fail one more request after the database is back.
        /// </summary>
        private ProviderUnavailableException Unavailable(Exception e)
        {
            Database.ClearPool();
            return Translate(e);
        }
    }
}
