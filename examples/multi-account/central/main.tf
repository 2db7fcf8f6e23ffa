# The central account (here 111111111111, "shared services") holds one backend
# for every workload account. Each environment's states are granted to the CI
# roles of the account that deploys it; an auditor in a security account may
# read both environments but never write or lock. Apply this as the role that
# bootstraps backends (see the permissions guide); that role becomes
# `provider_principal` and stays exempt from the boundary and the key
# administration denies, so it can always refresh, repair and destroy.
#
# Every role named here must exist before the apply: AWS refuses a bucket, key
# or table policy that names a principal it does not know. Create them first
# (in the dev account: workload/main.tf, run without `state_access_policy`).
terraform {
  required_providers {
    securestate = {
      source = "securestate/securestate"
    }
  }
}

provider "securestate" {
  region = "eu-central-1"
}

locals {
  auditor = "arn:aws:iam::444444444444:role/state-auditor"
}

resource "securestate_backend" "shared" {
  name         = "acme-shared"
  environments = ["dev", "prod"]

  # dev's states: written (and locked) only by the dev account's CI role.
  access {
    environment = "dev"
    principals  = ["arn:aws:iam::222222222222:role/ci-deploy"]
    read_only   = [local.auditor]
  }

  # prod's states: written only by the prod account's CI role.
  access {
    environment = "prod"
    principals  = ["arn:aws:iam::333333333333:role/ci-deploy"]
    read_only   = [local.auditor]
  }

  # Whatever any identity policy allows, callers outside the organisation
  # cannot touch the bucket or use the key. The account root, the break-glass
  # role and the provider's own principal are exempt.
  boundary {
    organization_id = "o-a1b2c3d4e5"
    break_glass     = ["arn:aws:iam::111111111111:role/state-break-glass"]
  }

  # Only this role (with MFA) and the provider's principal may schedule the
  # key's deletion, disable it or its rotation, or change its policy.
  key_administrators {
    principals  = ["arn:aws:iam::111111111111:role/state-key-admin"]
    require_mfa = true
  }
}

# Per environment, the ready `terraform { backend "s3" { ... } }` block. With
# access blocks it names the lock table by its ARN, so callers in other
# accounts reach this account's table.
output "backend_hcl" {
  value = securestate_backend.shared.backend_hcl
}

# Per environment, the identity policies (JSON) the granted roles attach in
# their own accounts: `read_write` for `principals`, `read_only` for
# `read_only`. Hand them to the workload accounts, e.g.
#   terraform output -json access_policy_documents | jq -r '.dev.read_write'
output "access_policy_documents" {
  value = securestate_backend.shared.access_policy_documents
}
