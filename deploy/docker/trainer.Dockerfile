# The trainer image for deploy/k8s/jobs/train-adapter.yaml (CPU libtorch: the trainer runs on the CPU):
#   docker build -f deploy/docker/trainer.Dockerfile -t inferencehost-trainer .
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
WORKDIR /src
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY src/ src/
RUN dotnet publish src/InferenceHost.Trainer/InferenceHost.Trainer.csproj -c Release -o /app \
 && rm -rf /app/runtimes/win-* /app/runtimes/osx-*

FROM mcr.microsoft.com/dotnet/runtime:10.0-noble AS runtime
WORKDIR /app
COPY --from=build /app ./
USER app
ENTRYPOINT ["dotnet", "InferenceHost.Trainer.dll"]
