# The smallest hardened backend: one environment ("default"), DynamoDB and
# S3 lock-file locking, 90 days of state history.
resource "securestate_backend" "minimal" {
  name = "acme"
}

# A backend for several environments, each with its own least-privilege IAM
# policy, and CI roles that may use the key through S3 and DynamoDB.
resource "securestate_backend" "org" {
  name         = "acme-platform"
  environments = ["dev", "staging", "prod"]
  locking      = "lockfile" # Terraform >= 1.10 everywhere: no lock table needed

  principals = [
    "arn:aws:iam::123456789012:role/ci-deployer",
  ]

  noncurrent_version_expiration_days = 365
  kms_deletion_window_days           = 30
  kms_rotation_period_days           = 180

  tags = {
    owner = "platform-team"
  }
}

# A central backend for other accounts (see the multi-account guide): each
# environment's states granted to the CI role of the account that deploys it,
# and read-only to an auditor. The roles attach access_policy_documents in
# their own accounts and use backend_hcl, which names the lock table by ARN.
resource "securestate_backend" "central" {
  name         = "acme-shared"
  environments = ["dev", "prod"]

  access {
    environment = "dev"
    principals  = ["arn:aws:iam::222222222222:role/ci-deploy"]
  }

  access {
    environment = "prod"
    principals  = ["arn:aws:iam::333333333333:role/ci-deploy"]
    read_only   = ["arn:aws:iam::444444444444:role/state-auditor"]
  }
}

# A watched backend: access logs in a managed, hardened log bucket, a trail of
# every read and write of state objects and lock items, and alarms when a
# state file is deleted or access is denied.
resource "securestate_backend" "watched" {
  name         = "acme-audited"
  environments = ["prod"]

  access_logging {
    retention_days = 400
  }

  cloudtrail {
    alarms {
      sns_topic_arn = "arn:aws:sns:eu-central-1:123456789012:state-alerts"
    }
  }
}

# Disaster recovery and tamper resistance: every state version copied to a
# replica bucket in another region (with its own key), kept for 30 days where
# no role without the governance bypass can delete it, and deletions of
# states sent to the alarm topic through EventBridge within seconds.
resource "securestate_backend" "resilient" {
  name         = "acme-dr"
  environments = ["prod"]

  replication {
    region = "eu-west-1"
  }

  object_lock {
    mode = "GOVERNANCE"
    days = 30
  }

  access_logging {}

  cloudtrail {
    alarms {
      sns_topic_arn = "arn:aws:sns:eu-central-1:123456789012:state-alerts"
    }
  }
}

# During an outage of the primary region, read states from the replica.
output "prod_failover_backend" {
  value = securestate_backend.resilient.replica_backend_hcl["prod"]
}

# Hand each environment its ready backend block...
output "prod_backend" {
  value = securestate_backend.org.backend_hcl["prod"]
}

# ...or the arguments alone, for `terraform init -backend-config=...` files.
output "backend_configs" {
  value = securestate_backend.org.backend_config
}
