package internal

import (
	_ "github.com/open-policy-agent/gatekeeper/v3/pkg/gator/test"
	_ "github.com/open-policy-agent/gatekeeper/v3/pkg/gator/verify"
	_ "github.com/open-policy-agent/opa/v1/rego"
	_ "github.com/open-policy-agent/opa/v1/tester"
)
