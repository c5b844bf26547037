#!/bin/bash

set -e

APP_ENV="$1"
APP="$2"

REGISTRY="127.0.0.1:5000/seed"
APP_GIT_BRANCH=$(git rev-parse --abbrev-ref HEAD)
APP_GIT_COMMITID=$(git rev-parse --short HEAD)

APP_IMAGE="${REGISTRY}/${APP_ENV}/${APP}"
APP_IMAGE_TAG="${APP_GIT_BRANCH}-${APP_GIT_COMMITID}-$(date +%Y%m%d%H%M)"

docker buildx build \
-t "${APP_IMAGE}:${APP_IMAGE_TAG}" \
--build-arg APP=${APP} \
--build-arg APP_ENV=${APP_ENV} \
--build-arg GIT_BRANCH=${APP_GIT_BRANCH} \
--build-arg GIT_COMMIT_ID=${APP_GIT_COMMITID} \
--progress plain \
-f Dockerfile.worker \
--push .

if [[ "$APP_ENV" == "prd" && ${APP_GIT_BRANCH} == "master" ]]; then
  docker tag "${APP_IMAGE}:${APP_IMAGE_TAG}" "${APP_IMAGE}:latest"
  docker push "${APP_IMAGE}:latest"
fi

