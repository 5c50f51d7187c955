using Npgsql;

namespace Berth.Metadata.PostgreSql;

/// <summary>
/// Versioned schema, the PostgreSQL twin of the SQLite provider's. Each entry runs once, in order, inside a transaction
/// that also records it in <c>schema_version</c>; append new entries, never edit applied ones.
/// </summary>
/// <remarks>
/// Names, tags and digests are <c>COLLATE "C"</c> so that comparisons and ORDER BY are byte-wise, as SQLite's BINARY
/// collation is: <c>last</c>-based pagination then returns the same pages on both providers. Where SQLite uses NOCASE
/// (token, scope map and client names) the spelling is stored as given and uniqueness, lookups and order go through
/// <c>lower()</c>, which under "C" folds ASCII only, exactly like NOCASE. Times are Unix milliseconds in BIGINT.
/// </remarks>
internal static class PostgreSqlSchema
{
    /// <summary>Held (session-level) while migrating, so that nodes starting together migrate one after the other.</summary>
    private const long MigrationLockKey = 0x4265727468_4D6967; // "Berth" "Mig"

    private static readonly string[] Migrations =
    [
        // 1: content
        """
        CREATE TABLE repositories (
            registry TEXT COLLATE "C" NOT NULL,
            name TEXT COLLATE "C" NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (registry, name)
        );
        CREATE TABLE blob_links (
            registry TEXT COLLATE "C" NOT NULL,
            repository TEXT COLLATE "C" NOT NULL,
            digest TEXT COLLATE "C" NOT NULL,
            size BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (registry, repository, digest)
        );
        CREATE INDEX blob_links_by_digest ON blob_links (registry, digest);
        CREATE TABLE manifests (
            registry TEXT COLLATE "C" NOT NULL,
            repository TEXT COLLATE "C" NOT NULL,
            digest TEXT COLLATE "C" NOT NULL,
            media_type TEXT NOT NULL,
            artifact_type TEXT,
            subject TEXT COLLATE "C",
            annotations TEXT,
            content BYTEA NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (registry, repository, digest)
        );
        CREATE INDEX manifests_by_subject ON manifests (registry, repository, subject) WHERE subject IS NOT NULL;
        CREATE TABLE manifest_references (
            registry TEXT COLLATE "C" NOT NULL,
            repository TEXT COLLATE "C" NOT NULL,
            manifest TEXT COLLATE "C" NOT NULL,
            referenced TEXT COLLATE "C" NOT NULL,
            kind TEXT NOT NULL,
            PRIMARY KEY (registry, repository, manifest, referenced)
        );
        CREATE INDEX manifest_references_by_referenced ON manifest_references (registry, repository, referenced);
        CREATE TABLE tags (
            registry TEXT COLLATE "C" NOT NULL,
            repository TEXT COLLATE "C" NOT NULL,
            tag TEXT COLLATE "C" NOT NULL,
            digest TEXT COLLATE "C" NOT NULL,
            updated_at BIGINT NOT NULL,
            created_at BIGINT,
            PRIMARY KEY (registry, repository, tag)
        );
        CREATE INDEX tags_by_digest ON tags (registry, repository, digest);
        CREATE TABLE uploads (
            id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
            registry TEXT COLLATE "C" NOT NULL,
            repository TEXT COLLATE "C" NOT NULL,
            started_at BIGINT NOT NULL
        );
        CREATE INDEX uploads_by_start ON uploads (started_at);
        """,
        // 2: identities (admin users, repository-scoped tokens, user scope maps). identity_sequence hands out the
        // versions that key the credential verification cache; it never repeats, even across delete and re-create.
        """
        CREATE TABLE identity_sequence (
            id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
            value BIGINT NOT NULL
        );
        INSERT INTO identity_sequence (id, value) VALUES (1, 0);
        CREATE TABLE admin_users (
            registry TEXT COLLATE "C" NOT NULL PRIMARY KEY,
            enabled BOOLEAN NOT NULL,
            password TEXT,
            password_created_at BIGINT,
            password_expiry BIGINT,
            password2 TEXT,
            password2_created_at BIGINT,
            password2_expiry BIGINT,
            version BIGINT NOT NULL
        );
        CREATE TABLE scope_maps (
            registry TEXT COLLATE "C" NOT NULL,
            name TEXT COLLATE "C" NOT NULL,
            description TEXT,
            actions TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            version BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX scope_maps_by_name ON scope_maps (registry, lower(name));
        CREATE TABLE tokens (
            registry TEXT COLLATE "C" NOT NULL,
            name TEXT COLLATE "C" NOT NULL,
            scope_map TEXT COLLATE "C" NOT NULL,
            enabled BOOLEAN NOT NULL,
            created_at BIGINT NOT NULL,
            password1 TEXT,
            password1_created_at BIGINT,
            password1_expiry BIGINT,
            password2 TEXT,
            password2_created_at BIGINT,
            password2_expiry BIGINT,
            version BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX tokens_by_name ON tokens (registry, lower(name));
        CREATE INDEX tokens_by_scope_map ON tokens (registry, lower(scope_map));
        """,
        // 3: registries hosted by this server, and their settings' activity log
        """
        CREATE TABLE registries (
            name TEXT COLLATE "C" NOT NULL PRIMARY KEY,
            login_server TEXT COLLATE "C" NOT NULL UNIQUE,
            sku TEXT NOT NULL,
            anonymous_pull BOOLEAN NOT NULL,
            subscription_id TEXT NOT NULL,
            resource_group TEXT NOT NULL,
            location TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            version BIGINT NOT NULL,
            arm_extras TEXT
        );
        CREATE TABLE activity_log (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            registry TEXT COLLATE "C" NOT NULL,
            at BIGINT NOT NULL,
            actor TEXT NOT NULL,
            setting TEXT NOT NULL,
            old_value TEXT,
            new_value TEXT
        );
        CREATE INDEX activity_log_by_registry ON activity_log (registry, id);
        """,
        // 4: management service principals (the owner created on first start); secrets are salted hashes
        """
        CREATE TABLE service_principals (
            client_id TEXT COLLATE "C" NOT NULL,
            display_name TEXT NOT NULL,
            role TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            secret_created_at BIGINT NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX service_principals_by_client_id ON service_principals (lower(client_id));
        """,
        // 5: ACR's changeable attributes (locks) of repositories, tags and manifests; a missing row means all enabled.
        """
        CREATE TABLE content_attributes (
            registry TEXT COLLATE "C" NOT NULL,
            repository TEXT COLLATE "C" NOT NULL,
            kind TEXT COLLATE "C" NOT NULL,
            key TEXT COLLATE "C" NOT NULL,
            delete_enabled BOOLEAN NOT NULL,
            write_enabled BOOLEAN NOT NULL,
            read_enabled BOOLEAN NOT NULL,
            list_enabled BOOLEAN NOT NULL,
            PRIMARY KEY (registry, repository, kind, key)
        );
        """,
        // 6: anonymous pull limited to repository patterns (a JSON array); NULL means every repository.
        """
        ALTER TABLE registries ADD COLUMN anonymous_pull_repositories TEXT;
        """,
        // 7: pull counts (manifest GETs) per repository (tag '') and per tag, added to by each node's flush.
        """
        CREATE TABLE pull_counts (
            registry TEXT COLLATE "C" NOT NULL,
            repository TEXT COLLATE "C" NOT NULL,
            tag TEXT COLLATE "C" NOT NULL,
            anonymous_pulls BIGINT NOT NULL,
            authenticated_pulls BIGINT NOT NULL,
            last_pulled_at BIGINT NOT NULL,
            PRIMARY KEY (registry, repository, tag)
        );
        """,
        // 8: content lifecycle (see the SQLite schema): when a manifest lost its last tag, and soft-deleted manifests and tags.
        """
        ALTER TABLE manifests ADD COLUMN untagged_at BIGINT;
        CREATE TABLE deleted_manifests (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            registry TEXT COLLATE "C" NOT NULL,
            repository TEXT COLLATE "C" NOT NULL,
            digest TEXT COLLATE "C" NOT NULL,
            media_type TEXT NOT NULL,
            artifact_type TEXT,
            subject TEXT COLLATE "C",
            annotations TEXT,
            content BYTEA NOT NULL,
            created_at BIGINT NOT NULL,
            deleted_at BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX deleted_manifests_by_digest ON deleted_manifests (registry, repository, digest);
        CREATE INDEX deleted_manifests_by_time ON deleted_manifests (registry, deleted_at);
        CREATE TABLE deleted_tags (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            registry TEXT COLLATE "C" NOT NULL,
            repository TEXT COLLATE "C" NOT NULL,
            tag TEXT COLLATE "C" NOT NULL,
            digest TEXT COLLATE "C" NOT NULL,
            created_at BIGINT NOT NULL,
            deleted_at BIGINT NOT NULL
        );
        CREATE INDEX deleted_tags_by_repository ON deleted_tags (registry, repository, seq);
        CREATE INDEX deleted_tags_by_time ON deleted_tags (registry, deleted_at);
        """,
        // 9: webhooks (their callback, service URI and custom headers, encrypted) and their outbox: one delivery row per
        // event and webhook, written with the change that caused it, leased by the node sending it; attempts are kept for listEvents.
        """
        CREATE TABLE webhooks (
            registry TEXT COLLATE "C" NOT NULL,
            name TEXT COLLATE "C" NOT NULL,
            location TEXT NOT NULL,
            tags TEXT NOT NULL,
            actions TEXT NOT NULL,
            scope TEXT NOT NULL,
            enabled BOOLEAN NOT NULL,
            created_at BIGINT NOT NULL,
            callback TEXT NOT NULL,
            PRIMARY KEY (registry, name)
        );
        CREATE UNIQUE INDEX webhooks_by_name ON webhooks (registry, lower(name));
        CREATE TABLE webhook_deliveries (
            id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
            registry TEXT COLLATE "C" NOT NULL,
            webhook TEXT COLLATE "C" NOT NULL,
            payload TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at BIGINT NOT NULL,
            lease_owner TEXT,
            lease_until BIGINT
        );
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at);
        CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (registry, lower(webhook));
        CREATE TABLE webhook_attempts (
            delivery TEXT COLLATE "C" NOT NULL,
            attempt INTEGER NOT NULL,
            registry TEXT COLLATE "C" NOT NULL,
            webhook TEXT COLLATE "C" NOT NULL,
            attempted_at BIGINT NOT NULL,
            payload TEXT NOT NULL,
            request_headers TEXT NOT NULL,
            request_uri TEXT NOT NULL,
            status_code INTEGER NOT NULL,
            reason_phrase TEXT NOT NULL,
            response_headers TEXT NOT NULL,
            response_content TEXT NOT NULL,
            PRIMARY KEY (delivery, attempt)
        );
        CREATE INDEX webhook_attempts_by_webhook ON webhook_attempts (registry, lower(webhook), attempted_at);
        """,
        // 10: the web page lists a repository's tags newest push first, a page at a time, also with 100,000 tags.
        """
        CREATE INDEX tags_by_push ON tags (registry, repository, updated_at DESC, tag);
        """,
        // 11: the artifact cache: cache rules (at most one per target repository) and credential sets, whose username and
        // password are encrypted like the admin passwords.
        """
        CREATE TABLE credential_sets (
            registry TEXT COLLATE "C" NOT NULL,
            name TEXT COLLATE "C" NOT NULL,
            login_server TEXT NOT NULL,
            username TEXT,
            password TEXT,
            principal_id TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            last_error TEXT
        );
        CREATE UNIQUE INDEX credential_sets_by_name ON credential_sets (registry, lower(name));
        CREATE TABLE cache_rules (
            registry TEXT COLLATE "C" NOT NULL,
            name TEXT COLLATE "C" NOT NULL,
            source_repository TEXT COLLATE "C" NOT NULL,
            target_repository TEXT COLLATE "C" NOT NULL,
            credential_set TEXT COLLATE "C",
            created_at BIGINT NOT NULL,
            last_error TEXT,
            last_error_at BIGINT
        );
        CREATE UNIQUE INDEX cache_rules_by_name ON cache_rules (registry, lower(name));
        CREATE UNIQUE INDEX cache_rules_by_target ON cache_rules (registry, target_repository);
        """,
    ];

    /// <summary>The version a fully migrated database has.</summary>
    public static int LatestVersion => Migrations.Length;

    public static void Migrate(NpgsqlConnection connection)
    {
        Execute(connection, null, $"SELECT pg_advisory_lock({MigrationLockKey});");
        try
        {
            Execute(connection, null,
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());");
            using (var read = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM schema_version;", connection))
            {
                var version = Convert.ToInt32(read.ExecuteScalar());
                if (version > Migrations.Length)
                    throw new InvalidOperationException(
                        $"The PostgreSQL database is at schema version {version}, newer than this Berth knows ({Migrations.Length}); run a newer Berth.");
                for (var i = version; i < Migrations.Length; i++)
                {
                    using var transaction = connection.BeginTransaction();
                    Execute(connection, transaction, Migrations[i]);
                    Execute(connection, transaction, $"INSERT INTO schema_version (version) VALUES ({i + 1});");
                    transaction.Commit();
                }
            }
        }
        finally
        {
            Execute(connection, null, $"SELECT pg_advisory_unlock({MigrationLockKey});");
        }
    }

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection, transaction);
        command.ExecuteNonQuery();
    }
}
