# The quick start's bootstrap configuration, run by `make demo` against the
# local emulator. The emulator's endpoint, CA bundle, test keys and region come
# from the environment (scripts/emulator/emulator.sh env), so this file is what
# you would write for real AWS, plus path-style addressing for the emulator.
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

data "securestate_caller_identity" "current" {}

output "account_id" {
  value = data.securestate_caller_identity.current.account_id
}

output "caller_arn" {
  value = data.securestate_caller_identity.current.arn
}

output "region" {
  value = data.securestate_caller_identity.current.region
}
