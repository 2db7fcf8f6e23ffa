# Watch a state backend and its states: on every plan and apply, a check
# reports as a warning when the backend falls short of securestate_backend's
# controls or a state holds a secret in plaintext. Warnings do not change
# Terraform's exit code; to fail a CI job, see examples/audit-gate.
terraform {
  required_providers {
    securestate = { source = "securestate/securestate" }
  }
}

variable "bucket" {
  type        = string
  description = "The state bucket to audit and scan."
}

variable "lock_table" {
  type        = string
  default     = null
  description = "The DynamoDB lock table, if the backend has one."
}

provider "securestate" {}

check "backend_is_hardened" {
  data "securestate_backend_audit" "this" {
    bucket     = var.bucket
    lock_table = var.lock_table
  }

  assert {
    condition = data.securestate_backend_audit.this.failed == 0 && data.securestate_backend_audit.this.unknown == 0
    error_message = join("\n", concat(
      ["The state backend fails ${data.securestate_backend_audit.this.failed} controls (${data.securestate_backend_audit.this.unknown} unreadable):"],
      [for name, c in data.securestate_backend_audit.this.controls : "${name}: ${c.observed}. ${c.remediation}" if c.status != "pass" && c.status != "not_applicable"],
    ))
  }
}

check "no_plaintext_secrets_in_state" {
  data "securestate_state_scan" "this" {
    bucket = var.bucket
  }

  assert {
    condition = data.securestate_state_scan.this.findings_count == 0 && length(data.securestate_state_scan.this.errors) == 0
    error_message = join("\n", concat(
      ["${data.securestate_state_scan.this.findings_count} plaintext secrets in state:"],
      [for f in data.securestate_state_scan.this.findings : "s3://${var.bucket}/${f.object_key}: ${f.address}.${f.path} (${f.rule})"],
      [for e in data.securestate_state_scan.this.errors : "s3://${var.bucket}/${e.object_key}: not scanned: ${e.error}"],
    ))
  }
}
