# Credentials and region come from the usual AWS environment variables or
# profiles, exactly as for the hashicorp/aws provider.
provider "securestate" {
  region = "eu-central-1"

  default_tags {
    tags = {
      owner = "platform-team"
    }
  }
}

# Through a TLS-inspecting proxy or private endpoints:
provider "securestate" {
  alias            = "private"
  region           = "eu-central-1"
  custom_ca_bundle = "/etc/ssl/corp-ca.pem"

  endpoints {
    s3  = "https://bucket.vpce-0123456789abcdef0.s3.eu-central-1.vpce.amazonaws.com"
    sts = "https://sts.eu-central-1.amazonaws.com"
  }

  assume_role {
    role_arn     = "arn:aws:iam::123456789012:role/state-admin"
    session_name = "terraform-bootstrap"
    duration     = "1h"
  }
}
