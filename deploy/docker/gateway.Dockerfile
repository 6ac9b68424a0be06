# The gateway image (no TorchSharp, no GPU): docker build -f deploy/docker/gateway.Dockerfile -t inferencehost-gateway .
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
WORKDIR /src
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY src/Shared/ src/Shared/
COPY src/InferenceHost.Gateway/ src/InferenceHost.Gateway/
RUN dotnet publish src/InferenceHost.Gateway/InferenceHost.Gateway.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS runtime
WORKDIR /app
COPY --from=build /app ./
USER app
ENV Urls=http://0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["dotnet", "InferenceHost.Gateway.dll"]
