// Command dts is OpenDTS: it streams a MySQL-family database into Kafka.
// See docs/ and `dts help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/opendts/opendts/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
