using Microsoft.Data.Sqlite;

namespace Berth.Metadata.Sqlite;

/// <summary>
/// Versioned schema. Each entry runs once, in order, inside a transaction, and bumps <c>user_version</c>;
/// append new entries, never edit applied ones.
/// </summary>
internal static class SqliteSchema
{
    private static readonly string[] Migrations =
    [
        // 1: content
        """
        CREATE TABLE repositories (
            registry TEXT NOT NULL,
            name TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (registry, name)
        ) WITHOUT ROWID;
        CREATE TABLE blob_links (
            registry TEXT NOT NULL,
            repository TEXT NOT NULL,
            digest TEXT NOT NULL,
            size INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (registry, repository, digest)
        ) WITHOUT ROWID;
        CREATE INDEX blob_links_by_digest ON blob_links (registry, digest);
        CREATE TABLE manifests (
            registry TEXT NOT NULL,
            repository TEXT NOT NULL,
            digest TEXT NOT NULL,
            media_type TEXT NOT NULL,
            artifact_type TEXT,
            subject TEXT,
            annotations TEXT,
            content BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (registry, repository, digest)
        ) WITHOUT ROWID;
        CREATE INDEX manifests_by_subject ON manifests (registry, repository, subject) WHERE subject IS NOT NULL;
        CREATE TABLE manifest_references (
            registry TEXT NOT NULL,
            repository TEXT NOT NULL,
            manifest TEXT NOT NULL,
            referenced TEXT NOT NULL,
            kind TEXT NOT NULL,
            PRIMARY KEY (registry, repository, manifest, referenced)
        ) WITHOUT ROWID;
        CREATE INDEX manifest_references_by_referenced ON manifest_references (registry, repository, referenced);
        CREATE TABLE tags (
            registry TEXT NOT NULL,
            repository TEXT NOT NULL,
            tag TEXT NOT NULL,
            digest TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (registry, repository, tag)
        ) WITHOUT ROWID;
        CREATE INDEX tags_by_digest ON tags (registry, repository, digest);
        CREATE TABLE uploads (
            id TEXT NOT NULL PRIMARY KEY,
            registry TEXT NOT NULL,
            repository TEXT NOT NULL,
            started_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
        // 2: identities (admin users, repository-scoped tokens, user scope maps). identity_sequence hands out the
        // versions that key the credential verification cache; it never repeats, even across delete and re-create.
        """
        CREATE TABLE identity_sequence (
            id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
            value INTEGER NOT NULL
        );
        INSERT INTO identity_sequence (id, value) VALUES (1, 0);
        CREATE TABLE admin_users (
            registry TEXT NOT NULL PRIMARY KEY,
            enabled INTEGER NOT NULL,
            password TEXT,
            password_created_at INTEGER,
            password_expiry INTEGER,
            password2 TEXT,
            password2_created_at INTEGER,
            password2_expiry INTEGER,
            version INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE scope_maps (
            registry TEXT NOT NULL,
            name TEXT NOT NULL COLLATE NOCASE,
            description TEXT,
            actions TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (registry, name)
        ) WITHOUT ROWID;
        CREATE TABLE tokens (
            registry TEXT NOT NULL,
            name TEXT NOT NULL COLLATE NOCASE,
            scope_map TEXT NOT NULL COLLATE NOCASE,
            enabled INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            password1 TEXT,
            password1_created_at INTEGER,
            password1_expiry INTEGER,
            password2 TEXT,
            password2_created_at INTEGER,
            password2_expiry INTEGER,
            version INTEGER NOT NULL,
            PRIMARY KEY (registry, name)
        ) WITHOUT ROWID;
        CREATE INDEX tokens_by_scope_map ON tokens (registry, scope_map);
        """,
        // 3: registries hosted by this server
        """
        CREATE TABLE registries (
            name TEXT NOT NULL PRIMARY KEY,
            login_server TEXT NOT NULL UNIQUE,
            sku TEXT NOT NULL,
            anonymous_pull INTEGER NOT NULL,
            subscription_id TEXT NOT NULL,
            resource_group TEXT NOT NULL,
            location TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            version INTEGER NOT NULL,
            arm_extras TEXT
        ) WITHOUT ROWID;
        CREATE TABLE activity_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            registry TEXT NOT NULL,
            at INTEGER NOT NULL,
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
            client_id TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
            display_name TEXT NOT NULL,
            role TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            secret_created_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
        // 5: ACR's changeable attributes (locks) of repositories, tags and manifests; a missing row means all enabled.
        // Tags remember when they were first created, which /acr/v1 reports as createdTime.
        """
        CREATE TABLE content_attributes (
            registry TEXT NOT NULL,
            repository TEXT NOT NULL,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            delete_enabled INTEGER NOT NULL,
            write_enabled INTEGER NOT NULL,
            read_enabled INTEGER NOT NULL,
            list_enabled INTEGER NOT NULL,
            PRIMARY KEY (registry, repository, kind, key)
        ) WITHOUT ROWID;
        ALTER TABLE tags ADD COLUMN created_at INTEGER;
        UPDATE tags SET created_at = updated_at;
        """,
        // 6: anonymous pull limited to repository patterns (a JSON array); NULL means every repository.
        """
        ALTER TABLE registries ADD COLUMN anonymous_pull_repositories TEXT;
        """,
        // 7: pull counts (manifest GETs) per repository (tag '') and per tag, added to by each node's flush.
        """
        CREATE TABLE pull_counts (
            registry TEXT NOT NULL,
            repository TEXT NOT NULL,
            tag TEXT NOT NULL,
            anonymous_pulls INTEGER NOT NULL,
            authenticated_pulls INTEGER NOT NULL,
            last_pulled_at INTEGER NOT NULL,
            PRIMARY KEY (registry, repository, tag)
        ) WITHOUT ROWID;
        """,
        // 8: content lifecycle. untagged_at is when a manifest lost its last tag (NULL while tagged or never tagged), which
        // the retention policy counts from. Soft-deleted manifests and tags move to deleted_* (seq orders them by deletion)
        // until restored or purged; the references of a soft-deleted manifest stay in manifest_references so that its blobs
        // and children are kept for a restore.
        """
        ALTER TABLE manifests ADD COLUMN untagged_at INTEGER;
        CREATE TABLE deleted_manifests (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            registry TEXT NOT NULL,
            repository TEXT NOT NULL,
            digest TEXT NOT NULL,
            media_type TEXT NOT NULL,
            artifact_type TEXT,
            subject TEXT,
            annotations TEXT,
            content BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            deleted_at INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX deleted_manifests_by_digest ON deleted_manifests (registry, repository, digest);
        CREATE INDEX deleted_manifests_by_time ON deleted_manifests (registry, deleted_at);
        CREATE TABLE deleted_tags (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            registry TEXT NOT NULL,
            repository TEXT NOT NULL,
            tag TEXT NOT NULL,
            digest TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            deleted_at INTEGER NOT NULL
        );
        CREATE INDEX deleted_tags_by_repository ON deleted_tags (registry, repository, seq);
        CREATE INDEX deleted_tags_by_time ON deleted_tags (registry, deleted_at);
        """,
        // 9: webhooks (their callback, service URI and custom headers, encrypted) and their outbox: one delivery row per
        // event and webhook, written with the change that caused it, leased by the node sending it; attempts are kept for listEvents.
        """
        CREATE TABLE webhooks (
            registry TEXT NOT NULL,
            name TEXT NOT NULL COLLATE NOCASE,
            location TEXT NOT NULL,
            tags TEXT NOT NULL,
            actions TEXT NOT NULL,
            scope TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            callback TEXT NOT NULL,
            PRIMARY KEY (registry, name)
        ) WITHOUT ROWID;
        CREATE TABLE webhook_deliveries (
            id TEXT NOT NULL PRIMARY KEY,
            registry TEXT NOT NULL,
            webhook TEXT NOT NULL COLLATE NOCASE,
            payload TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at INTEGER NOT NULL,
            lease_owner TEXT,
            lease_until INTEGER
        );
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at);
        CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (registry, webhook);
        CREATE TABLE webhook_attempts (
            delivery TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            registry TEXT NOT NULL,
            webhook TEXT NOT NULL COLLATE NOCASE,
            attempted_at INTEGER NOT NULL,
            payload TEXT NOT NULL,
            request_headers TEXT NOT NULL,
            request_uri TEXT NOT NULL,
            status_code INTEGER NOT NULL,
            reason_phrase TEXT NOT NULL,
            response_headers TEXT NOT NULL,
            response_content TEXT NOT NULL,
            PRIMARY KEY (delivery, attempt)
        );
        CREATE INDEX webhook_attempts_by_webhook ON webhook_attempts (registry, webhook, attempted_at);
        """,
        // 10: the web page lists a repository's tags newest push first, a page at a time, also with 100,000 tags.
        """
        CREATE INDEX tags_by_push ON tags (registry, repository, updated_at DESC, tag);
        """,
        // 11: the artifact cache: cache rules (at most one per target repository) and credential sets, whose username and
        // password are encrypted like the admin passwords.
        """
        CREATE TABLE credential_sets (
            registry TEXT NOT NULL,
            name TEXT NOT NULL COLLATE NOCASE,
            login_server TEXT NOT NULL,
            username TEXT,
            password TEXT,
            principal_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            last_error TEXT,
            PRIMARY KEY (registry, name)
        ) WITHOUT ROWID;
        CREATE TABLE cache_rules (
            registry TEXT NOT NULL,
            name TEXT NOT NULL COLLATE NOCASE,
            source_repository TEXT NOT NULL,
            target_repository TEXT NOT NULL,
            credential_set TEXT COLLATE NOCASE,
            created_at INTEGER NOT NULL,
            last_error TEXT,
            last_error_at INTEGER,
            PRIMARY KEY (registry, name)
        ) WITHOUT ROWID;
        CREATE UNIQUE INDEX cache_rules_by_target ON cache_rules (registry, target_repository);
        """,
    ];

    public static void Migrate(SqliteConnection connection)
    {
        using var read = connection.CreateCommand();
        read.CommandText = "PRAGMA user_version;";
        var version = Convert.ToInt32(read.ExecuteScalar());
        for (var i = version; i < Migrations.Length; i++)
        {
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Migrations[i] + $"\nPRAGMA user_version = {i + 1};";
            command.ExecuteNonQuery();
            transaction.Commit();
        }
    }
}
