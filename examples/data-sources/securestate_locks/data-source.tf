# Which state locks does the backend hold right now, and who holds them?
data "securestate_locks" "backend" {
  bucket     = "acme-tfstate-111122223333"
  lock_table = "acme-tflock" # without it, only the lock files are read
  prefix     = "prod/"
}

output "locks" {
  value = [
    for l in data.securestate_locks.backend.locks :
    "${l.path} (${l.kind}): lock ${l.id} held by ${l.who} for ${l.operation} with CLI ${l.version} since ${coalesce(l.created, "an unknown time")}${l.error == "" ? "" : " (${l.error})"}"
  ]
}

# A warning on every plan and apply while a lock is older than 4 hours: a
# run that died (a killed CI job) without releasing it. Its own data source,
# so a failed read is a warning too.
check "no_stale_state_locks" {
  data "securestate_locks" "stale" {
    bucket      = "acme-tfstate-111122223333"
    lock_table  = "acme-tflock"
    stale_after = "4h"
  }

  assert {
    condition = data.securestate_locks.stale.stale_count == 0
    error_message = join("\n", concat(
      ["Stale state locks: once their runs are gone, release each with terraform force-unlock <id> (tofu force-unlock <id>)"],
      [for l in data.securestate_locks.stale.locks : "${l.path} (${l.kind}): ${l.id} held by ${l.who} for ${l.operation} since ${l.created}" if l.stale],
    ))
  }

  assert {
    condition     = length(data.securestate_locks.stale.errors) == 0
    error_message = join("\n", concat(["Lock files or items that could not be read:"], [for e in data.securestate_locks.stale.errors : "${e.source} (${e.kind}): ${e.error}"]))
  }
}
