// Command etcd is upstream etcd's server (go.etcd.io/etcd/server/v3/etcdmain), built from
// source for envtest because no prebuilt binaries can be downloaded here.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
