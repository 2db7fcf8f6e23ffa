# The workload side, applied in the dev account (222222222222) by its own
# administrators with the hashicorp/aws provider: the CI role that the
# central backend's access block for "dev" names, and the identity policy it
# needs there. A role of another account needs both halves: the central
# account's resource policies admit it (the access block), and its own
# account must allow the calls (this policy).
#
# Order: apply this first without `state_access_policy` (the role must exist
# before the central backend names it), then apply central/, then apply this
# again with the JSON of central's output
#   access_policy_documents["dev"].read_write
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

provider "aws" {
  region = "eu-central-1"
}

variable "ci_runner_role_arn" {
  description = "The principal your CI system runs as, allowed to assume ci-deploy."
  type        = string
}

variable "state_access_policy" {
  description = "access_policy_documents[\"dev\"].read_write of the central backend (JSON); null until the backend exists."
  type        = string
  default     = null
}

resource "aws_iam_role" "ci_deploy" {
  # The name and account must match the ARN in the central access block.
  name = "ci-deploy"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = var.ci_runner_role_arn }
      Action    = "sts:AssumeRole"
    }]
  })
}

# The document is attached exactly as the backend rendered it: it reaches
# only dev/ in the central bucket, dev's lock items in the central table and
# the central key, nothing else.
resource "aws_iam_role_policy" "dev_state" {
  count  = var.state_access_policy == null ? 0 : 1
  name   = "acme-shared-tfstate-dev"
  role   = aws_iam_role.ci_deploy.id
  policy = var.state_access_policy
}
