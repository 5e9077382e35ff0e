module github.com/enigate/enigate/test/tools/image

go 1.26.0

require (
	github.com/google/go-containerregistry v0.22.1
	// The same version as the product's go.mod (the builder checks): the image's CA file and
	// the binary's fallback roots come from one bundle.
	golang.org/x/crypto/x509roots/fallback v0.0.0-20261030153154-30a33513ff6d
)

require (
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
	golang.org/x/sync v0.22.0 // indirect
)
