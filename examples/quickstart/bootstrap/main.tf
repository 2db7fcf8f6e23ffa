# Step 1 of the quick start: bootstrap a hardened state backend with two
# environments. `make demo` runs it against the local emulator, whose endpoint,
# CA bundle, test keys and region come from the environment
# (scripts/emulator/emulator.sh env). Against real AWS, drop s3_use_path_style.
terraform {
  required_providers {
    securestate = {
      source = "securestate/securestate"
    }
  }
}

provider "securestate" {
  s3_use_path_style = true
}

variable "locking" {
  description = "\"both\" (the default) needs Terraform 1.10 or later in the configurations that use the backend; \"dynamodb\" works with any version."
  type        = string
  default     = "both"
}

resource "securestate_backend" "org" {
  name         = "quickstart"
  environments = ["dev", "prod"]
  locking      = var.locking
}

# A ready `terraform { backend "s3" { ... } }` block per environment.
output "backend_hcl" {
  value = securestate_backend.org.backend_hcl
}

# The same settings as -backend-config files (`<env>.s3.tfbackend`), for
# configurations that keep an empty `backend "s3" {}` block.
output "tfbackend" {
  value = {
    for env, config in securestate_backend.org.backend_config : env => join("\n", concat(
      [for k, v in config : "${k} = ${jsonencode(v)}" if v != null], [""]
    ))
  }
}

output "policy_arns" {
  description = "Attach each environment's policy to whoever runs Terraform for it."
  value       = securestate_backend.org.policy_arns
}

output "kms_key_arn" {
  value = securestate_backend.org.kms_key_arn
}
