import { resizeBicubic } from './src/image/resample.js';
const W=1024,H=768; const data=new Uint8Array(W*H*3).map((_,i)=>(i*7)%251);
const src={data,width:W,height:H,channels:3};
for (let k=0;k<4;k++){
 const c0=process.cpuUsage(); let t=performance.now(); for(let i=0;i<20;i++) resizeBicubic(src,298,224,{left:37,top:0,width:224,height:224});
 const cu=process.cpuUsage(c0); console.log('resize wall', ((performance.now()-t)/20).toFixed(2), 'cpu', ((cu.user+cu.system)/1000/20).toFixed(2));
 const c1=process.cpuUsage(); t=performance.now(); for(let i=0;i<20;i++) resizeBicubic(src,224,224,{left:0,top:0,width:224,height:168}); // dummy
}
