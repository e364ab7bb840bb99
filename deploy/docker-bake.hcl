// Builds all microshop images, multi-arch, in one command (run from the repository root):
//
//   docker buildx bake -f deploy/docker-bake.hcl                     # linux/amd64 + linux/arm64
//   REGISTRY=registry.example.com/shop TAG=1.2.3 \
//     docker buildx bake -f deploy/docker-bake.hcl --push            # publish
//   docker buildx bake -f deploy/docker-bake.hcl --set '*.platform=linux/amd64' --load  # local
//
// Every target uses the same Dockerfile, so BuildKit compiles the workspace once per platform
// and each image copies its binary out of that shared stage. The Rust stages run natively on
// the build machine and cross-compile (no QEMU); see the Dockerfile's header.

variable "REGISTRY" {
  default = "ghcr.io/microshop"
}

variable "TAG" {
  default = "0.1.0"
}

// Git commit recorded in the org.opencontainers.image.revision label.
variable "REVISION" {
  default = "unknown"
}

group "default" {
  targets = ["products", "users", "orders", "payments", "notifications", "storefront", "operator", "loadgen"]
}

target "_common" {
  context    = "."
  dockerfile = "Dockerfile"
  platforms  = ["linux/amd64", "linux/arm64"]
  args = {
    VERSION  = TAG
    REVISION = REVISION
  }
}

target "products" {
  inherits = ["_common"]
  target   = "products"
  tags     = ["${REGISTRY}/microshop-products:${TAG}"]
}

target "users" {
  inherits = ["_common"]
  target   = "users"
  tags     = ["${REGISTRY}/microshop-users:${TAG}"]
}

target "orders" {
  inherits = ["_common"]
  target   = "orders"
  tags     = ["${REGISTRY}/microshop-orders:${TAG}"]
}

target "payments" {
  inherits = ["_common"]
  target   = "payments"
  tags     = ["${REGISTRY}/microshop-payments:${TAG}"]
}

target "notifications" {
  inherits = ["_common"]
  target   = "notifications"
  tags     = ["${REGISTRY}/microshop-notifications:${TAG}"]
}

target "storefront" {
  inherits = ["_common"]
  target   = "storefront"
  tags     = ["${REGISTRY}/microshop-storefront:${TAG}"]
}

target "operator" {
  inherits = ["_common"]
  target   = "operator"
  tags     = ["${REGISTRY}/microshop-operator:${TAG}"]
}

target "loadgen" {
  inherits = ["_common"]
  target   = "loadgen"
  tags     = ["${REGISTRY}/microshop-loadgen:${TAG}"]
}
