# Fail a CI job when a state backend falls short of securestate_backend's
# controls, or when a state holds a secret in plaintext: a failed
# postcondition is an error, so `terraform plan` exits with 1 and prints
# where the problem is (never a secret's value).
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

data "securestate_backend_audit" "gate" {
  bucket     = var.bucket
  lock_table = var.lock_table

  lifecycle {
    postcondition {
      condition = self.failed == 0 && self.unknown == 0
      error_message = join("\n", concat(
        ["The state backend fails ${self.failed} controls (${self.unknown} unreadable):"],
        [for name, c in self.controls : "${name}: ${c.observed}. ${c.remediation}" if c.status == "fail" || c.status == "unknown"],
      ))
    }
  }
}

data "securestate_state_scan" "gate" {
  bucket = var.bucket

  lifecycle {
    postcondition {
      condition = self.findings_count == 0 && length(self.errors) == 0
      error_message = join("\n", concat(
        ["${self.findings_count} plaintext secrets in state:"],
        [for f in self.findings : "s3://${var.bucket}/${f.object_key}: ${f.address}.${f.path} (${f.rule})"],
        [for e in self.errors : "s3://${var.bucket}/${e.object_key}: not scanned: ${e.error}"],
      ))
    }
  }
}
