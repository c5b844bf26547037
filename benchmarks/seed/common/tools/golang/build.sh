#!/bin/bash

set -e

# 配置
REGISTRY="127.0.0.1:5000/seed"
IMAGE_BASE_NAME="common/tools/golang"
VERSION="${GO_VERSION:?GO_VERSION (the harness Go version) is not set}"


# 声明镜像地址数组
declare -a IMAGE_PATHS
IMAGE_PATHS+=(
    "${REGISTRY}/${IMAGE_BASE_NAME}:${VERSION}"
    "${REGISTRY}/${IMAGE_BASE_NAME}:${VERSION%.*}"
    "${REGISTRY}/${IMAGE_BASE_NAME}:${VERSION}-debian11"
    "${REGISTRY}/${IMAGE_BASE_NAME}:${VERSION%.*}-debian11"
)


build_image() {

    echo "Building and pushing image:"
    for img in "${IMAGE_PATHS[@]}"; do echo -n " $img"; done

    # 构建镜像
    docker buildx build \
      $(for img in "${IMAGE_PATHS[@]}"; do echo -n "-t $img "; done) \
      --label "org.opencontainers.image.created=$(date --rfc-3339=seconds)" \
      --network host \
      --build-arg "GOLANG_VERSION=${VERSION}" \
      --build-arg "GOLANG_DOWNLOAD_URL=${GO_DOWNLOAD_URL:?}" \
      --build-arg "GOLANG_SHA256=amd64=${GO_SHA256_LINUX_AMD64:?} arm64=${GO_SHA256_LINUX_ARM64:?}" \
      --provenance=false \
      --pull \
      --push \
      .

    echo "Build complete."
}

# 参数处理
case "$1" in
    "list-tags")
        # 输出镜像标签列表
        printf '%s\n' "${IMAGE_PATHS[@]}"
        ;;
    *)
    build_image
    ;;
esac
