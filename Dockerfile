# GPU image: the server built against TorchSharp's CUDA libtorch, on Ubuntu 24.04 (GCC 14's C++ runtime:
# no native patching needed, and the build's fix-libtorchsharp.sh step sees that and does nothing).
#
#   docker build -t inferencehost .
#   docker run --gpus all -p 8000:8000 inferencehost    # the built-in default model (models/default)
#   docker run --gpus all -p 8000:8000 \
#     -v /path/to/TinyLlama-1.1B-Chat-v1.0:/models/base:ro -v "$PWD/adapters:/adapters:ro" \
#     -e Model__Path=/models/base -e Model__Device=cuda -e Model__DType=bfloat16 inferencehost
#
# The build stage needs the full NuGet feed (TorchSharp-cuda-linux and its libtorch-cuda packages).

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
WORKDIR /src
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props InferenceHost.sln appsettings.json ./
COPY build/ build/
COPY src/ src/
COPY models/ models/
RUN dotnet publish src/InferenceHost/InferenceHost.csproj -c Release -p:TorchDevice=cuda -o /app \
 && rm -rf /app/runtimes/win-* /app/runtimes/osx-*

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS runtime
WORKDIR /app
COPY --from=build /app ./
RUN mkdir -p /models /adapters
USER app
ENV ASPNETCORE_URLS=http://0.0.0.0:8000 \
    Urls=http://0.0.0.0:8000 \
    Adapters__Directory=/adapters \
    Adapters__AllowedRoots__0=/adapters \
    Model__Device=cuda \
    Model__DType=bfloat16
EXPOSE 8000
VOLUME ["/models", "/adapters"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=120s --retries=3 \
  CMD ["dotnet", "InferenceHost.dll", "healthcheck", "--url", "http://127.0.0.1:8000/health/ready"]
ENTRYPOINT ["dotnet", "InferenceHost.dll"]
