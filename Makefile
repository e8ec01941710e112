# Copyright 2026 The tcpping_exporter Authors
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
# http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

# Prometheus-style build: promu builds with the version ldflags of
# .promu.yml, binaries go to .build/$(GOOS)-$(GOARCH)/, images are built from
# there, release tarballs go to .tarballs/.

GO             ?= go
GOFMT          ?= gofmt
DOCKER         ?= podman
DOCKER_FLAGS   ?= --runtime runc
DOCKER_ARCHS   ?= amd64
DOCKER_REPO    ?= localhost
DOCKER_IMAGE_NAME ?= tcpping_exporter
DOCKER_IMAGE_TAG  ?= $(subst /,-,$(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo latest))

BIN_NAME       := tcpping_exporter
VERSION        := $(shell cat VERSION)
GOHOSTOS       := $(shell $(GO) env GOHOSTOS)
GOHOSTARCH     := $(shell $(GO) env GOHOSTARCH)
PREFIX         ?= $(CURDIR)

# promu is built from the module proxy into the user cache, where
# packaging_test.go looks for it too.
PROMU_VERSION  ?= v0.17.0
PROMU_CACHE    ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/tcpping_exporter
PROMU          := $(PROMU_CACHE)/promu-$(PROMU_VERSION)/promu

# The platforms and tarball files are listed once, in .promu.yml.
CROSSBUILD_PLATFORMS := $(shell sed -n '/^crossbuild:/,/^[^ ]/s/^ *- *//p' .promu.yml)
TARBALL_FILES        := $(shell sed -n '/^tarball:/,/^[^ ]/s/^ *- *//p' .promu.yml)

.PHONY: all
all: lint build test

.PHONY: help
help:
	@echo 'targets: build test e2e lint docker crossbuild tarball tarballs clean promu'

.PHONY: promu
promu: $(PROMU)

$(PROMU):
	PROMU_VERSION=$(PROMU_VERSION) GO=$(GO) sh scripts/install-promu.sh $(dir $(PROMU))

# build: the host binary at $(PREFIX)/tcpping_exporter.
.PHONY: build
build: promu
	$(PROMU) build --prefix $(PREFIX)

# test: the packages' unit tests. e2e: the e2e package's tests, which
# build and run the binary (and the container, unit file and promu build
# when their tools are installed). CI runs both: go test -race ./...
.PHONY: test
test:
	$(GO) test -race $(shell $(GO) list ./... | grep -v '^github.com/tcpping/tcpping_exporter/e2e$$')

.PHONY: e2e
e2e:
	$(GO) test -race ./e2e

.PHONY: lint
lint:
	@echo '>> gofmt'
	@out=$$($(GOFMT) -l .); if [ -n "$$out" ]; then echo "not gofmt-ed:"; echo "$$out"; exit 1; fi
	@echo '>> go vet'
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	@if command -v golangci-lint >/dev/null; then \
		echo '>> golangci-lint'; golangci-lint run; \
	else \
		echo '>> golangci-lint not installed, skipped'; \
	fi

# crossbuild: every platform of .promu.yml into .build/$(OS)-$(ARCH)/, with
# the local toolchain (promu crossbuild would pull golang-builder images).
.PHONY: crossbuild
crossbuild: promu
	@set -e; for p in $(CROSSBUILD_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; \
		echo ">> $$os/$$arch"; \
		GOOS=$$os GOARCH=$$arch $(PROMU) build --prefix .build/$$os-$$arch; \
	done

.build/linux-%/$(BIN_NAME): promu FORCE
	GOOS=linux GOARCH=$* $(PROMU) build --prefix .build/linux-$*

# Made by a pattern rule, the binary would be an intermediate file, which
# make deletes once the image is built; it stays, as crossbuild's do.
.PRECIOUS: .build/linux-%/$(BIN_NAME)

.PHONY: FORCE
FORCE:

# docker: one image per DOCKER_ARCHS from .build/linux-$(ARCH)/, as in the
# Prometheus repositories. Podman by default: the image is FROM scratch, so
# no registry is needed. --platform: with no base image to take it from,
# the image would otherwise name the build host's architecture, whatever
# binary it holds.
.PHONY: docker
docker: $(addprefix docker-,$(DOCKER_ARCHS))

.PHONY: docker-%
docker-%: .build/linux-%/$(BIN_NAME)
	$(DOCKER) $(DOCKER_FLAGS) build --platform "linux/$*" -t "$(DOCKER_REPO)/$(DOCKER_IMAGE_NAME)-linux-$*:$(DOCKER_IMAGE_TAG)" \
		--build-arg ARCH="$*" --build-arg OS="linux" .

# tarball: the host binary from $(PREFIX) as
# .tarballs/tcpping_exporter-$(VERSION).$(GOHOSTOS)-$(GOHOSTARCH).tar.gz with
# the files .promu.yml lists. tarballs: the same for every platform that
# crossbuild put under .build/ (Windows also as .zip).
.PHONY: tarball
tarball: build
	sh scripts/tarball.sh .tarballs $(BIN_NAME) $(VERSION) $(GOHOSTOS)-$(GOHOSTARCH) $(PREFIX) $(TARBALL_FILES)

.PHONY: tarballs
tarballs: crossbuild
	@set -e; for p in $(CROSSBUILD_PLATFORMS); do \
		d=$$(echo $$p | tr / -); \
		sh scripts/tarball.sh .tarballs $(BIN_NAME) $(VERSION) $$d .build/$$d $(TARBALL_FILES); \
	done

.PHONY: clean
clean:
	rm -rf .build .tarballs $(BIN_NAME) $(BIN_NAME).exe
