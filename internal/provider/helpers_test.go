package provider_test

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-testing/compare"
)

var compareEqual = compare.ValuesSame()

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
