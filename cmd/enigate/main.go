// Command enigate renders, admits and verifies EKS clusters running Cilium in ENI mode with the
// Gateway API. See `enigate help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	// Root certificates compiled in (NSS, via the Go project) for 'limits refresh' and any TLS
	// client, used when the system has none: the image's CA file comes from the same bundle.
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/enigate/enigate/cmd/enigate/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(cli.ExitCode(err))
}
